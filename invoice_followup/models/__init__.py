from . import invoice_followup_policy
from . import invoice_followup_step
from . import invoice_followup_log
from . import res_company
from . import res_partner
from . import res_config_settings
from . import account_move
from . import mail_mail
