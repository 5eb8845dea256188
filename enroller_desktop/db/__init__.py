"""The data layer: models, the engine factory, migrations and the screens' read queries."""
