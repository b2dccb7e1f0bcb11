"""Flask commands of each area; create_app registers each module with its ``register(app)``."""

from pointsapp.commands import bench, challenges, earning, push, recognition, rewards

__all__ = ["bench", "challenges", "earning", "push", "recognition", "rewards"]
