# Fed to `odoo shell` by scripts/run.sh: run the add-on's scheduled jobs once, as Odoo's cron worker would.
# The reminders' invoice PDFs are rendered here: serve_reports lets wkhtmltopdf load their styles from this process.
import sys

sys.path.insert(0, 'scripts')
from report_server import serve_reports  # noqa: E402

with serve_reports(env):  # noqa: F821 - `env` is provided by odoo shell
    for xmlid in ('invoice_followup.ir_cron_generate_recurring', 'invoice_followup.ir_cron_send_reminders',
                  'account.ir_cron_account_move_send', 'mail.ir_cron_mail_scheduler_action'):
        cron = env.ref(xmlid)  # noqa: F821
        cron.method_direct_trigger()
        print(f"ran {cron.name}")
    env.cr.commit()  # noqa: F821
