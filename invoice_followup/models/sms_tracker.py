# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class SmsTracker(models.Model):
    _inherit = 'sms.tracker'

    def _update_sms_notifications(self, notification_status, failure_type=False, failure_reason=False):
        # The one place Odoo reports on an SMS: the provider's answer when sending, its delivery reports later.
        res = super()._update_sms_notifications(
            notification_status, failure_type=failure_type, failure_reason=failure_reason)
        if notification_status in ('exception', 'bounce', 'pending', 'sent') and self.mail_notification_id:
            logs = self.env['invoice.followup.log'].sudo().search(
                [('sms_notification_id', 'in', self.mail_notification_id.ids)])
            for log in logs:  # each with its own number and reason
                log._followup_update_sms_delivery(notification_status, failure_type, failure_reason)
        return res
