# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailThread(models.AbstractModel):
    _inherit = 'mail.thread'

    def _routing_handle_bounce(self, email_message, message_dict):
        """A bounce that answers one of our reminders: mark that reminder bounced, stop e-mailing the address and
        open a case. The bounce is matched on the reminder's own message, so other invoices stay untouched."""
        super()._routing_handle_bounce(email_message, message_dict)
        bounced_message = message_dict.get('bounced_message')
        if not bounced_message:
            return
        logs = self.env['invoice.followup.log'].sudo().search([
            ('mail_message_id', 'in', bounced_message.ids), ('state', 'in', ('sent', 'failed'))])
        if logs:
            logs._followup_mark_bounced(message_dict.get('bounced_email'))
