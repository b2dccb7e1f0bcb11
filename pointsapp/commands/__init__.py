"""Flask commands of each area, registered by pointsapp.cli."""
