# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain

from ..const import FOLLOWUP_READERS

PAYS_LATE_DAYS = 7
# Who may switch a customer's reminders off (or on): billing users. Enforced on the fields, so that a contact
# manager without billing rights cannot do it over RPC or by import either.
FOLLOWUP_CONTROLLERS = 'account.group_account_invoice'


class ResPartner(models.Model):
    _inherit = 'res.partner'

    followup_policy_id = fields.Many2one(
        'invoice.followup.policy',
        string="Follow-up Policy",
        company_dependent=True,
        check_company=True,
        groups=FOLLOWUP_CONTROLLERS,
        help="Reminder policy for this customer's invoices. Empty: the company's default policy.",
    )
    # Not copied: a duplicate is a new customer, reminded by default (and a contact manager may duplicate it).
    followup_excluded = fields.Boolean(
        string="No Automatic Reminders",
        copy=False,
        groups=FOLLOWUP_CONTROLLERS,
        help="Never send automatic reminders to this customer.",
    )
    followup_strategic = fields.Boolean(
        string="Strategic Customer",
        copy=False,
        groups=FOLLOWUP_CONTROLLERS,
        help="Firm and final reminders of this customer go to a person (a collection case) instead of being sent.",
    )
    followup_bounced_email = fields.Char(
        string="Bounced Reminder Address", copy=False, readonly=True, groups=FOLLOWUP_CONTROLLERS,
        help="A reminder to this address bounced: no more reminders are e-mailed to it until the address changes.",
    )
    followup_log_count = fields.Integer(
        compute='_compute_followup_log_count', groups=FOLLOWUP_READERS, export_string_translation=False)
    followup_case_count = fields.Integer(
        compute='_compute_followup_case_count', groups=FOLLOWUP_READERS, export_string_translation=False)
    followup_avg_days_late = fields.Float(
        string="Average Days Late", compute='_compute_followup_payment_behaviour',
        groups=FOLLOWUP_READERS,
        help="Over the invoices of the last 12 months paid or past due: days paid after the due date (0 when on "
        "time), or days late so far when still unpaid.")
    followup_avg_days_to_pay = fields.Float(
        string="Average Days to Pay", compute='_compute_followup_payment_behaviour',
        groups=FOLLOWUP_READERS,
        help="Days from the invoice date to the payment, over the invoices of the last 12 months paid.")
    followup_pays_late = fields.Boolean(
        string="Usually Pays Late", compute='_compute_followup_payment_behaviour',
        groups=FOLLOWUP_READERS,
        help="Pays more than a week late on average over the last 12 months.")
    followup_reminder_move_ids = fields.Many2many(
        'account.move',
        compute='_compute_followup_reminder_move_ids',
        groups=FOLLOWUP_READERS,
        export_string_translation=False,
        help="Invoices a consolidated reminder is about: those given in the context by the cron, "
        "else the customer's invoices under active follow-up (template preview).",
    )

    def _compute_followup_log_count(self):
        counts = dict(self.env['invoice.followup.log']._read_group(
            [('partner_id', 'in', self.commercial_partner_id.ids), ('state', '!=', 'cancel')],
            ['partner_id'], ['__count'],
        ))
        for partner in self:
            partner.followup_log_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends_context('company', 'allowed_company_ids')
    def _compute_followup_payment_behaviour(self):
        stats = self._followup_payment_behaviour(self.env.companies)
        for partner in self:
            days_late, days_to_pay = stats.get(partner.commercial_partner_id, (0.0, 0.0))
            partner.followup_avg_days_late = days_late
            partner.followup_avg_days_to_pay = days_to_pay
            partner.followup_pays_late = days_late > PAYS_LATE_DAYS

    @api.depends_context('invoice_followup_move_ids')
    def _compute_followup_reminder_move_ids(self):
        move_ids = self.env.context.get('invoice_followup_move_ids')
        Move = self.env['account.move']
        for partner in self:
            if move_ids is not None:
                moves = Move.browse(move_ids).filtered(
                    lambda move, partner=partner: move.commercial_partner_id == partner.commercial_partner_id)
            else:
                moves = Move.search([
                    ('commercial_partner_id', '=', partner.commercial_partner_id.id),
                    ('followup_state', '=', 'active'),
                ], order='invoice_date_due, id')
            partner.followup_reminder_move_ids = moves

    def _compute_followup_case_count(self):
        counts = dict(self.env['invoice.followup.case']._read_group(
            [('partner_id', 'in', self.commercial_partner_id.ids), ('is_open', '=', True)],
            ['partner_id'], ['__count'],
        ))
        for partner in self:
            partner.followup_case_count = counts.get(partner.commercial_partner_id, 0)

    def write(self, vals):
        previous = {partner: partner.email_normalized for partner in self} if 'email' in vals else {}
        res = super().write(vals)
        if changed := self.filtered(lambda partner: partner in previous
                                    and partner.email_normalized != previous[partner]):
            changed._followup_on_email_changed(previous)
        if 'followup_policy_id' in vals:
            self.env['account.move']._followup_propagate_policy(
                Domain('commercial_partner_id', 'in', self.commercial_partner_id.ids)
                & Domain('company_id', '=', self.env.company.id))
        return res

    def signup_prepare(self, signup_type='signup'):
        # Core's portal e-mails call this for their customer on every e-mail with a sign-up link, and core writes
        # the type each time, set or not: a write of the customer per reminder. The token does not depend on it.
        return super(ResPartner, self.filtered(lambda partner: partner.signup_type != signup_type)).signup_prepare(
            signup_type)

    def _followup_payment_behaviour(self, companies):
        """Average days late and days to pay of these customers in ``companies``, over their invoices of the last
        12 months that are paid or past due (one grouped read of the collections analysis).

        :return: {commercial partner: (average days late, average days to pay)}
        """
        since = fields.Date.context_today(self) - relativedelta(months=12)
        return {
            partner: (days_late or 0.0, days_to_pay or 0.0)
            for partner, days_late, days_to_pay in self.env['invoice.followup.report']._read_group(
                [('partner_id', 'in', self.commercial_partner_id.ids), ('invoice_date', '>=', since),
                 ('is_due', '=', True), ('company_id', 'in', companies.ids)],
                ['partner_id'], ['days_late:avg', 'days_to_pay:avg'])
        }

    def _followup_on_email_changed(self, previous):
        """These partners' addresses really changed (``previous``: {partner: former normalized address}).

        A bounce ends only when the address that bounced is replaced (not when it is saved again, nor when another
        contact or record gets an address); a customer without an address is reachable once one is set.
        As superuser: the bounce is for billing users only, and any contact manager may change an address.
        """
        partners = self.sudo()
        replaced = partners.filtered(lambda partner: previous[partner] and previous[partner] == (
            partner.commercial_partner_id.followup_bounced_email or previous[partner]))
        unbounced = replaced.commercial_partner_id.filtered('followup_bounced_email')
        if unbounced:
            unbounced.followup_bounced_email = False
        reachable = partners.filtered('email_normalized').commercial_partner_id
        cases = self.env['invoice.followup.case'].sudo().search(
            Domain('is_open', '=', True) & (
                (Domain('partner_id', 'in', replaced.commercial_partner_id.ids) & Domain('reason', '=', 'bounce'))
                | (Domain('partner_id', 'in', reachable.ids) & Domain('reason', '=', 'no_email'))))
        if cases:
            cases.action_resolve()
            for case in cases:
                case.message_post(body=self.env._("The customer's e-mail address changed."))

    def action_view_followup_cases(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_case_action')
        action['domain'] = [('partner_id', '=', self.commercial_partner_id.id)]
        action['context'] = {'search_default_open': 1, 'default_partner_id': self.commercial_partner_id.id}
        return action

    def action_view_followup_logs(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_log_action')
        action['domain'] = [('partner_id', '=', self.commercial_partner_id.id)]
        action['context'] = {'search_default_group_by_move': 0}
        return action
