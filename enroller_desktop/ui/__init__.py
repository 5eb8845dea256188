"""The Qt interface: windows, models and background jobs. Only this package imports Qt."""
