# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class InvoiceFollowupLog(models.Model):
    """What an SMS reminder records: the number texted and the SMS notification, whose status the SMS provider's
    answers update (``sms.tracker``): a failure fails the reminder as a failed e-mail does."""

    _inherit = 'invoice.followup.log'

    sms_number = fields.Char(string="Texted To", readonly=True)
    # The notification outlives its sms.sms (deleted once sent): the provider's delivery reports update it.
    sms_notification_id = fields.Many2one(
        'mail.notification', string="SMS Notification", index='btree_not_null', ondelete='set null', readonly=True,
        export_string_translation=False)

    def _followup_update_sms_delivery(self, notification_status, failure_type, failure_reason):
        """The SMS provider reports on the SMS of these reminders (``sms.tracker``): an error or a bounce (wrong
        number, no credit, undeliverable) fails them as a failed e-mail does; a later success (an SMS sent again
        from Odoo's SMS menu) recovers them."""
        if notification_status in ('exception', 'bounce'):
            labels = dict(self.env['mail.notification']._fields['failure_type']._description_selection(self.env))
            reason = failure_reason or labels.get(failure_type) or failure_type or notification_status
            self._followup_update_delivery(failure_type or 'unknown', self.env._(
                "SMS to %(number)s: %(reason)s", number=', '.join(filter(None, set(self.mapped('sms_number')))),
                reason=reason))
        elif notification_status in ('pending', 'sent'):
            self._followup_update_delivery(False, False)
