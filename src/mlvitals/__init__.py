"""mlvitals: operational monitoring for machine-learning systems in production.

The public SDK is re-exported here; everything not in ``__all__`` is private.
"""

from mlvitals.errors import MlvitalsError
from mlvitals.sdk import Monitor

__version__ = "0.1.0"

__all__ = ["MlvitalsError", "Monitor", "__version__"]
