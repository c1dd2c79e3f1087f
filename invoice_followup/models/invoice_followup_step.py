# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import STEP_CHANNELS

# The shipped SMS template of each tone: what an SMS step (or an e-mail step's SMS fallback) sends unless set.
SMS_TEMPLATE_BY_TONE = {
    'friendly': 'invoice_followup.sms_template_followup_friendly',
    'polite': 'invoice_followup.sms_template_followup_polite',
    'firm': 'invoice_followup.sms_template_followup_firm',
    'final': 'invoice_followup.sms_template_followup_final',
}


class InvoiceFollowupStep(models.Model):
    _name = 'invoice.followup.step'
    _description = "Invoice Follow-up Step"
    _order = 'policy_id, sequence, offset_days, id'
    _check_company_auto = True

    policy_id = fields.Many2one(
        'invoice.followup.policy', string="Policy", required=True, index=True, ondelete='cascade')
    company_id = fields.Many2one(related='policy_id.company_id', store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    offset_days = fields.Integer(
        string="Days",
        required=True,
        default=0,
        help="Days from the reference date: negative before it, 0 on it, positive after it.",
    )
    date_reference = fields.Selection(
        [('due', "Due date"), ('invoice', "Invoice date")],
        string="Counted From",
        required=True,
        default='due',
        help="Due date: the due date of the installment the reminder asks for. "
        "Invoice date: the date the invoice was issued (first installment only).",
    )
    channel = fields.Selection(
        STEP_CHANNELS,
        required=True,
        default='email',
        help="E-mail: send the step's template to the customer. "
        "Call / to-do: schedule an activity for a person instead of e-mailing. "
        "SMS: text the step's SMS template to the customer's mobile (else phone) number.",
    )
    tone = fields.Selection(
        [('friendly', "Friendly"), ('polite', "Polite"), ('firm', "Firm"), ('final', "Final")],
        required=True,
        default='polite',
    )
    mail_template_id = fields.Many2one(
        'mail.template',
        string="E-mail Template",
        domain="[('model', '=', 'account.move')]",
        check_company=True,
    )
    sms_fallback = fields.Boolean(
        string="SMS If No E-mail",
        help="When the customer's e-mail address bounced or there is none, text the SMS template to their mobile "
        "instead of holding the reminder.",
    )
    sms_template_id = fields.Many2one(
        'sms.template',
        string="SMS Template",
        domain="[('model', '=', 'account.move')]",
        compute='_compute_sms_template_id',
        store=True,
        readonly=False,
        precompute=True,
        help="The text of an SMS step, or of an e-mail step's SMS fallback (the tone's shipped template unless set).",
    )
    activity_type_id = fields.Many2one(
        'mail.activity.type',
        string="Activity Type",
        default=lambda self: self._default_activity_type_id(),
    )
    activity_note = fields.Html(translate=True)
    send_hour = fields.Selection(
        [(str(hour), f"{hour:02d}:00") for hour in range(24)],
        string="Customer's Hour",
        help="Send this step at this hour of the customer's day (their time zone, else the company's), not before; "
        "empty: at the daily run.",
    )
    # Late fee: charged once per invoice, as a separate customer invoice, when this step goes out (off by default).
    late_fee_type = fields.Selection(
        [('none', "No fee"), ('fixed', "Fixed amount"), ('interest', "Interest")],
        string="Late Fee",
        required=True,
        default='none',
        help="Charged once per invoice, when this step goes out, as a separate customer invoice stated in the "
        "reminder: a fixed amount, or interest at a yearly rate for the days late.",
    )
    late_fee_amount = fields.Float(
        string="Fee Amount", help="The fixed fee, in the company's currency (converted into the invoice's).")
    late_fee_rate = fields.Float(string="Yearly Interest (%)", help="Interest charged per year late on the amount due.")
    late_fee_cap = fields.Float(
        string="Fee Cap", help="The most a fee may be, in the company's currency (0: no cap).")

    def _default_activity_type_id(self):
        return self.env.ref('mail.mail_activity_data_call', raise_if_not_found=False)

    @api.depends('channel', 'sms_fallback', 'tone')
    def _compute_sms_template_id(self):
        for step in self:
            xmlid = SMS_TEMPLATE_BY_TONE.get(step.tone)
            if (step.channel == 'sms' or step.sms_fallback) and not step.sms_template_id and xmlid:
                step.sms_template_id = self.env.ref(xmlid, raise_if_not_found=False)
            else:
                step.sms_template_id = step.sms_template_id

    def _sends_sms(self):
        """Whether this step may text the customer: an SMS step, or an e-mail step with the SMS fallback."""
        self.ensure_one()
        return self.channel == 'sms' or (self.channel == 'email' and self.sms_fallback)

    @api.constrains('channel', 'mail_template_id', 'activity_type_id', 'sms_template_id', 'sms_fallback')
    def _check_channel_setup(self):
        for step in self:
            if step._sends_sms() and not step.sms_template_id:
                raise ValidationError(self.env._(
                    "The step “%(step)s” texts the customer: it needs an SMS template.", step=step.name))
            if step.channel == 'email' and not step.mail_template_id:
                raise ValidationError(self.env._(
                    "The e-mail step “%(step)s” needs an e-mail template.", step=step.name))
            if step.channel == 'activity' and not step.activity_type_id:
                raise ValidationError(self.env._(
                    "The call/to-do step “%(step)s” needs an activity type.", step=step.name))

    @api.constrains('late_fee_type', 'late_fee_amount', 'late_fee_rate', 'late_fee_cap')
    def _check_late_fee(self):
        for step in self:
            if step.late_fee_type == 'fixed' and step.late_fee_amount <= 0:
                raise ValidationError(self.env._(
                    "The late fee of step “%(step)s” must be a positive amount.", step=step.name))
            if step.late_fee_type == 'interest' and not 0 < step.late_fee_rate <= 100:
                raise ValidationError(self.env._(
                    "The yearly interest of step “%(step)s” must be between 0 and 100%%.", step=step.name))
            if step.late_fee_cap < 0:
                raise ValidationError(self.env._(
                    "A late fee cap cannot be negative (step “%(step)s”).", step=step.name))

    @api.constrains('offset_days')
    def _check_offset_days(self):
        for step in self:
            if abs(step.offset_days) > 3650:
                raise ValidationError(self.env._(
                    "A follow-up step must fall within ten years of its reference date (step “%(step)s”).",
                    step=step.name))

    @api.depends('name', 'offset_days', 'date_reference')
    def _compute_display_name(self):
        for step in self:
            step.display_name = f"{step.name} ({step._offset_label()})"

    def _offset_label(self):
        self.ensure_one()
        days = abs(self.offset_days)
        if self.date_reference == 'invoice':
            if not self.offset_days:
                return self.env._("at invoice date")
            return self.env._("%(days)s days after invoice date", days=self.offset_days)
        if not self.offset_days:
            return self.env._("on due date")
        if self.offset_days < 0:
            return self.env._("%(days)s days before due", days=days)
        return self.env._("%(days)s days overdue", days=days)

    def _target_date(self, invoice_date, due_date):
        """Date at which this step applies, before any working-day shift."""
        self.ensure_one()
        reference = invoice_date if self.date_reference == 'invoice' else due_date
        if not reference:
            return False
        return reference + timedelta(days=self.offset_days)
