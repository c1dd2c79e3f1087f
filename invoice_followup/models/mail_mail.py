# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailMail(models.Model):
    _inherit = 'mail.mail'

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        # Read the messages before super(), which may delete auto-deleted mails.
        logs = self.env['invoice.followup.log'].sudo().search([('mail_message_id', 'in', self.mail_message_id.ids)])
        if logs:
            reason = failure_reason
            if failure_type and not reason:  # a failed SMTP connection reports it on the mails only
                reason = next(filter(None, self.sudo().mapped('failure_reason')), False)
            logs._followup_update_delivery(failure_type, reason)
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type)
