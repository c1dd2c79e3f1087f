# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from typing import NamedTuple

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain

from ..const import FOLLOWUP_READERS

# Bands of the payment score, best first: (value, label, lowest score of the band).
RISK_BANDS = [('good', "Reliable"), ('watch', "To Watch"), ('risky', "At Risk")]
RISK_BAND_FLOORS = {'good': 70, 'watch': 40, 'risky': 0}
# What each signal may take off the score of 100 (they add up to 100), and where a signal is at its worst.
RISK_WEIGHT_DAYS_LATE = 35  # average days late, full penalty from ...
RISK_WORST_DAYS_LATE = 60
RISK_WEIGHT_LATE_SHARE = 25  # share of the paid or past-due invoices not paid on time
RISK_WEIGHT_OVERDUE = 25  # open overdue amount, as a share of the amount invoiced over the period
RISK_WEIGHT_BROKEN_PROMISE = 5  # per invoice whose promise or payment plan was broken, up to ...
RISK_MAX_BROKEN_PROMISES = 3
RISK_MONTHS = 12


class RiskSignals(NamedTuple):
    """What the payment score of a customer is made of (over the invoices of the last 12 months)."""

    due_count: int = 0  # invoices paid or past due
    avg_days_late: float = 0.0
    late_count: int = 0  # ... of them not paid by their due date
    invoiced: float = 0.0  # total of the invoices, in company currency
    overdue: float = 0.0  # open overdue amount (any date), in company currency
    broken_promises: int = 0

    def score(self):
        """0 (worst) to 100 (best); see the README for the formula."""
        days = min(max(self.avg_days_late, 0.0), RISK_WORST_DAYS_LATE) / RISK_WORST_DAYS_LATE
        late_share = self.late_count / self.due_count if self.due_count else 0.0
        if self.overdue <= 0:
            overdue_share = 0.0
        else:
            overdue_share = min(self.overdue / self.invoiced, 1.0) if self.invoiced > 0 else 1.0
        broken = min(self.broken_promises, RISK_MAX_BROKEN_PROMISES) * RISK_WEIGHT_BROKEN_PROMISE
        penalty = (RISK_WEIGHT_DAYS_LATE * days + RISK_WEIGHT_LATE_SHARE * late_share
                   + RISK_WEIGHT_OVERDUE * overdue_share + broken)
        return max(0, min(100, round(100 - penalty)))

    def band(self):
        """The band of the score; none without history (no invoice paid or past due, nothing overdue)."""
        if not self.due_count and self.overdue <= 0:
            return False
        score = self.score()
        return next(band for band, _label in RISK_BANDS if score >= RISK_BAND_FLOORS[band])


class InvoiceFollowupRiskMixin(models.AbstractModel):
    """Part of ``res.partner`` (which inherits it, see res_partner_credit.py), in a file of its own: the payment
    score of a customer and its band. ``self`` is always a partner."""

    _name = 'invoice.followup.risk.mixin'
    _description = "Customer: Payment Score"

    # Per company (a customer may pay one company on time and another late), written by the daily refresh
    # (_cron_refresh_followup_risk): read by the reminder engine for each invoice, they must not cost a query.
    followup_risk_score = fields.Integer(
        string="Payment Score", company_dependent=True, readonly=True, groups=FOLLOWUP_READERS,
        help="0 to 100, higher is better: how well the customer paid over the last 12 months (days late, share "
        "of invoices paid late, amount overdue now, broken promises). Refreshed every night.")
    followup_risk_band = fields.Selection(
        RISK_BANDS, string="Payment Risk", company_dependent=True, readonly=True, groups=FOLLOWUP_READERS,
        help="Reliable: score of 70 or more; To Watch: 40 to 69; At Risk: below 40. Empty until the customer has an "
        "invoice paid or past due. The company may give each band its own reminder policy.")

    @api.model
    def _followup_risk_signals(self, partners, company):
        """The signals of the payment score of ``partners`` (commercial partners) in ``company``: three grouped
        reads for the whole batch, never a query per customer.

        :return: {partner: RiskSignals}
        """
        since = company._followup_today() - relativedelta(months=RISK_MONTHS)
        base = Domain('partner_id', 'in', partners.ids) & Domain('company_id', '=', company.id)
        signals = {}
        for partner, is_due, count, days_late, on_time, invoiced in self.env['invoice.followup.report']._read_group(
                base & Domain('invoice_date', '>=', since), ['partner_id', 'is_due'],
                ['__count', 'days_late:avg', 'paid_on_time_count:sum', 'amount:sum']):
            current = signals.get(partner, RiskSignals())
            current = current._replace(invoiced=current.invoiced + (invoiced or 0.0))
            if is_due:
                current = current._replace(
                    due_count=count, avg_days_late=days_late or 0.0, late_count=count - (on_time or 0))
            signals[partner] = current
        overdue = self._followup_overdue_amounts(partners, company)
        for partner, (amount, _oldest) in overdue.items():
            signals[partner] = signals.get(partner, RiskSignals())._replace(overdue=amount)
        for partner, count in self.env['account.move']._read_group(
                Domain('commercial_partner_id', 'in', partners.ids) & Domain('company_id', '=', company.id)
                & Domain('move_type', '=', 'out_invoice') & Domain('state', '=', 'posted')
                & Domain('invoice_date', '>=', since)
                & Domain('followup_case_ids', 'any', [('reason', '=', 'broken_promise')]),
                ['commercial_partner_id'], ['__count']):
            signals[partner] = signals.get(partner, RiskSignals())._replace(broken_promises=count)
        return signals

    @api.model
    def _followup_overdue_amounts(self, partners, company):
        """Open amount of the customer invoices of ``partners`` in ``company`` past their due date (installment by
        installment), and the oldest of those due dates; one grouped read.

        :return: {partner: (amount overdue in company currency, oldest due date)}
        """
        today = company._followup_today()
        return {
            partner: (amount, oldest)
            for partner, amount, oldest in self.env['account.move.line']._read_group(
                Domain('partner_id', 'in', partners.ids) & Domain('company_id', '=', company.id)
                & Domain('parent_state', '=', 'posted') & Domain('display_type', '=', 'payment_term')
                & Domain('move_id.move_type', '=', 'out_invoice') & Domain('reconciled', '=', False)
                # paid by a payment without journal entry: nothing to reconcile, yet paid
                & Domain('move_id.payment_state', 'not in', ('in_payment', 'paid', 'reversed'))
                & Domain('date_maturity', '<', today),
                ['partner_id'], ['amount_residual:sum', 'date_maturity:min'])
            if company.currency_id.compare_amounts(amount, 0) > 0
        }

    def _followup_refresh_risk(self, company):
        """Score these commercial partners in ``company``; the open invoices of those whose band changed and
        who have no policy of their own follow the policy of their new band (when the company assigns them)."""
        partners = self.with_company(company).sudo()
        signals = partners._followup_risk_signals(partners, company)
        changed = self.env['res.partner']
        to_write = defaultdict(lambda: self.env['res.partner'])
        for partner in partners:
            partner_signals = signals.get(partner, RiskSignals())
            values = (partner_signals.score(), partner_signals.band())
            if (partner.followup_risk_score, partner.followup_risk_band) != values:
                to_write[values] |= partner
                if partner.followup_risk_band != values[1]:
                    changed |= partner
        for (score, band), group in to_write.items():  # one UPDATE per score and band, not per customer
            group.with_company(company).sudo().write({'followup_risk_score': score, 'followup_risk_band': band})
        if changed and company.followup_policy_by_risk:
            self.env['account.move']._followup_propagate_policy(
                Domain('commercial_partner_id', 'in', changed.ids) & Domain('company_id', '=', company.id))
        return changed

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _followup_risk_batches(self, batch_size=500):
        """The customers to score: those with a posted invoice, by company, in batches (one grouped read).

        :return: [(company, partners)]
        """
        by_company = defaultdict(list)
        for company, partner in self.env['account.move']._read_group(
                [('move_type', '=', 'out_invoice'), ('state', '=', 'posted')],
                ['company_id', 'commercial_partner_id']):
            by_company[company].append(partner.id)
        return [(company, self.env['res.partner'].browse(ids[start:start + batch_size]))
                for company, ids in by_company.items() for start in range(0, len(ids), batch_size)]

    @api.model
    def _followup_refresh_all_risk(self):
        """Score every customer now, in this transaction (demo data, a manual refresh)."""
        for company, partners in self._followup_risk_batches():
            partners._followup_refresh_risk(company)

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _cron_refresh_followup_risk(self, batch_size=500):
        """Refresh the payment score of every customer with a posted invoice, company by company, in batches
        committed one by one."""
        cron = self.env['ir.cron']
        batches = self._followup_risk_batches(batch_size)
        for index, (company, partners) in enumerate(batches):
            partners._followup_refresh_risk(company)
            remaining = sum(len(batch) for _company, batch in batches[index + 1:])
            if not cron._commit_progress(len(partners), remaining=remaining):
                break
