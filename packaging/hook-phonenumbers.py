# Replaces the contributed hook, which collects every phonenumbers module: the
# checks need the region metadata only, not geocoding, carriers or time zones (40 MB).
from PyInstaller.utils.hooks import collect_submodules

UNUSED = ("phonenumbers.geodata", "phonenumbers.carrierdata", "phonenumbers.tzdata")

hiddenimports = collect_submodules("phonenumbers", filter=lambda name: not name.startswith(UNUSED))
