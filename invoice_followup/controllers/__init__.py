from . import portal
from . import tracking
