"""Flask commands of each area; create_app registers each module with its ``register(app)``."""

from pointsapp.commands import challenges, earning, push, recognition, rewards

__all__ = ["challenges", "earning", "push", "recognition", "rewards"]
