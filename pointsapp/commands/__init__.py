"""Flask commands of each area; create_app registers each module with its ``register(app)``."""

from pointsapp.commands import authority, bench, challenges, earning, push, recognition, rewards

__all__ = ["authority", "bench", "challenges", "earning", "push", "recognition", "rewards"]
