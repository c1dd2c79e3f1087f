# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import format_amount

from .res_partner_risk import RISK_BANDS

# The company's policy of each payment risk band (res.partner.followup_risk_band).
RISK_POLICY_FIELDS = {band: f'followup_policy_{band}_id' for band, _label in RISK_BANDS}


class InvoiceFollowupCompanyCreditMixin(models.AbstractModel):
    """Part of ``res.company`` (which inherits it, below), in a file of its own: the company's policy per payment
    risk band and its credit hold. ``self`` is always a company."""

    _name = 'invoice.followup.company.credit.mixin'
    _description = "Company: Policies by Risk and Credit Hold"

    followup_policy_by_risk = fields.Boolean(
        string="Assign Policy by Risk",
        help="Customers without a policy of their own follow the policy of their payment risk band; a band "
        "without a policy, or a customer without a band yet, follows the default policy.")
    followup_policy_good_id = fields.Many2one(
        'invoice.followup.policy', string="Policy for Reliable Customers", check_company=True)
    followup_policy_watch_id = fields.Many2one(
        'invoice.followup.policy', string="Policy for Customers to Watch", check_company=True)
    followup_policy_risky_id = fields.Many2one(
        'invoice.followup.policy', string="Policy for Customers at Risk", check_company=True)
    followup_credit_hold = fields.Boolean(
        string="Credit Hold",
        help="Customers with an invoice overdue too long, or above their credit limit, cannot have sale orders "
        "confirmed or invoices posted, except by an accounting administrator. Lifted as soon as they pay.")
    followup_credit_hold_days = fields.Integer(
        string="Hold After Days Overdue", default=30,
        help="A customer with an invoice overdue by more than this number of days is on hold "
        "(0: only the credit limit holds).")

    @api.constrains('followup_credit_hold_days')
    def _check_followup_credit_hold_days(self):
        if any(company.followup_credit_hold_days < 0 for company in self):
            raise ValidationError(self.env._("The days overdue before a credit hold cannot be negative."))

    @api.constrains(*RISK_POLICY_FIELDS.values())
    def _check_followup_risk_policy_company(self):
        # res.company does not check its companies on write (no _check_company_auto).
        self._check_company(list(RISK_POLICY_FIELDS.values()))

    def write(self, vals):
        res = super().write(vals)
        if {'followup_policy_by_risk', *RISK_POLICY_FIELDS.values()} & set(vals):
            self.env['account.move']._followup_propagate_policy(Domain('company_id', 'in', self.ids))
        return res

    def _followup_risk_policy(self, partner):
        """The policy of ``partner``'s payment risk band in this company, when the company assigns policies by
        risk; else nothing (the customer follows the default policy). No company (a half-filled form): nothing."""
        if not self.followup_policy_by_risk:
            return self.env['invoice.followup.policy']
        band = partner.with_company(self).sudo().followup_risk_band
        return self[RISK_POLICY_FIELDS[band]] if band else self.env['invoice.followup.policy']

    def _followup_credit_hold_reason(self, partner, status, amount=0.0):
        """Why ``partner`` (commercial partner) is on credit hold in this company, or an empty string.

        :param dict status: the customer's overdue amount and oldest days late (see the mixin)
        :param float amount: of the document being confirmed, not yet in the customer's balance
        """
        self.ensure_one()
        if not self.followup_credit_hold:
            return ""
        reasons = []
        if self.followup_credit_hold_days and status['days_late'] > self.followup_credit_hold_days:
            reasons.append(self.env._(
                "%(customer)s has an invoice overdue by %(days)s days (more than %(limit)s), "
                "%(amount)s overdue in all.",
                customer=partner.display_name, days=status['days_late'], limit=self.followup_credit_hold_days,
                amount=format_amount(self.env, status['overdue'], self.currency_id)))
        partner = partner.with_company(self).sudo()
        if self.account_use_credit_limit and partner.credit_limit > 0:
            exposure = partner.credit + amount
            if self.currency_id.compare_amounts(exposure, partner.credit_limit) > 0:
                reasons.append(self.env._(
                    "%(customer)s would owe %(exposure)s, above its credit limit of %(limit)s.",
                    customer=partner.display_name, exposure=format_amount(self.env, exposure, self.currency_id),
                    limit=format_amount(self.env, partner.credit_limit, self.currency_id)))
        return " ".join(reasons)


class ResCompany(models.Model):
    _name = 'res.company'
    _inherit = ['res.company', 'invoice.followup.company.credit.mixin']
