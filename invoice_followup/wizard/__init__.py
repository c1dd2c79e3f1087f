from . import invoice_followup_preview
from . import invoice_followup_preview_line
from . import account_move_followup_pause
from . import project_milestone_billing_plan
from . import invoice_followup_recurring_start
from . import invoice_followup_statement_send
