from . import test_docker_config
from . import test_cadence_schedule
from . import test_cadence_cron
from . import test_cadence_faults
from . import test_cadence_security
from . import test_cadence_ui
from . import test_milestone
from . import test_milestone_security
