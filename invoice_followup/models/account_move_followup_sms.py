# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .account_move_followup_delivery import FollowupSendError


class FollowupNoPhoneError(FollowupSendError):
    """The customer has no usable mobile or phone number for an SMS reminder."""

    case_reason = 'no_phone'


class AccountMove(models.Model):
    _inherit = 'account.move'

    def _followup_sms_recipient(self):
        """Who an SMS reminder goes to, and the number: the invoice address's mobile (else phone), else the
        customer's, sanitized as Odoo's SMS does (``_phone_format``: E.164 in the partner's country, else the
        company's). ``(empty partner, False)`` when neither has a usable number."""
        self.ensure_one()
        for partner in (self.partner_id, self.commercial_partner_id):
            for fname in partner._phone_get_number_fields():
                if number := partner._phone_format(fname=fname):
                    return partner, number
        return self.env['res.partner'], False

    def _followup_sms_error(self):
        """The error an SMS reminder without a usable number fails with (planner hold ``no_phone``)."""
        self.ensure_one()
        return FollowupNoPhoneError(self.env._(
            "%(partner)s has no valid mobile or phone number for the SMS reminder.",
            partner=self.partner_id.display_name))

    def _followup_texts_when_bounced(self):
        """Whether a bounce leaves this invoice's cadence going: its policy texts the customer instead of e-mailing
        a bounced address (a step's SMS fallback) and the customer has a number. The bounce case still opens (a
        person finds a working address), without pausing the reminders."""
        self.ensure_one()
        return any(self.followup_policy_id.step_ids.mapped('sms_fallback')) and bool(self._followup_sms_recipient()[1])
