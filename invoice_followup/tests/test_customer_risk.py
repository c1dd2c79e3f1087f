# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged

from ..models.res_partner_risk import RiskSignals
from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCustomerRisk(InvoiceFollowupCommon):
    """The payment score of a customer (0-100) and its band, refreshed by the daily cron; the collections board
    shows the riskiest customers first; a company may give each band its own policy, a customer's own policy
    always wins."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env['res.partner']
        cls.partner_c = cls.Partner.create({'name': 'Risky Ltd', 'email': 'risky@example.com'})
        cls.policy_strict = cls.policy.copy({'name': 'Strict cadence'})
        cls.policy_gentle = cls.policy.copy({'name': 'Gentle cadence'})
        cls.other_company = cls.setup_other_company(name='Other Company')['company']

    def _refresh(self):
        with self.enter_registry_test_mode():
            self.env.ref('invoice_followup.ir_cron_refresh_followup_risk').method_direct_trigger()
        self.env.invalidate_all()

    def _late_history(self, partner):
        """Two invoices paid 30 days late, one of 1000 unpaid 45 days past due: 3000 invoiced, all late."""
        for invoice_date, due, paid in (('2026-01-01', '2026-01-31', '2026-03-02'),
                                        ('2026-02-01', '2026-03-03', '2026-04-02')):
            invoice = self._followup_invoice(1000.0, invoice_date, due, partner=partner)
            self._register_payment(invoice, payment_date=paid)
        return self._followup_invoice(1000.0, '2026-04-01', '2026-05-01', partner=partner)

    def test_score_formula_and_bands(self):
        cases = [
            # (signals, score, band)
            (RiskSignals(), 100, False),
            (RiskSignals(due_count=4, invoiced=4000.0), 100, 'good'),
            # 35 × 15/60 + 25 × 1/4 = 15
            (RiskSignals(due_count=4, avg_days_late=15.0, late_count=1, invoiced=4000.0), 85, 'good'),
            # 35 × 30/60 + 25 × 2/4 = 30: the lowest good score
            (RiskSignals(due_count=4, avg_days_late=30.0, late_count=2, invoiced=4000.0), 70, 'good'),
            (RiskSignals(due_count=4, avg_days_late=30.0, late_count=2, invoiced=4000.0, broken_promises=1), 65,
             'watch'),
            # 35 + 25 + 25 × 1/2 + 5 × 3 (the cap): 87.5
            (RiskSignals(due_count=2, avg_days_late=200.0, late_count=2, invoiced=2000.0, overdue=1000.0,
                         broken_promises=7), 12, 'risky'),
            # overdue from invoices older than the period: the whole overdue weight; the score never goes below 0
            (RiskSignals(overdue=500.0), 75, 'good'),
            (RiskSignals(due_count=1, avg_days_late=90.0, late_count=1, overdue=900.0, broken_promises=3), 0,
             'risky'),
        ]
        for signals, score, band in cases:
            with self.subTest(signals=signals):
                self.assertEqual((signals.score(), signals.band()), (score, band))

    def test_scores_from_invoice_history(self):
        on_time = self._followup_invoice(1000.0, '2026-03-01', '2026-03-31')
        self._register_payment(on_time, payment_date='2026-03-20')
        self._late_history(self.partner_b)
        # One invoice of 2000, 104 days past due, whose promise to pay was broken.
        broken = self._followup_invoice(2000.0, '2026-02-01', '2026-03-03', partner=self.partner_c)
        self.env['invoice.followup.case']._followup_open(broken, 'broken_promise', promise_date='2026-04-01')
        not_due = self.Partner.create({'name': 'New customer'})
        self._followup_invoice(500.0, '2026-06-01', '2026-07-01', partner=not_due)
        contact = self.Partner.create({'name': 'Contact of B', 'parent_id': self.partner_b.id})
        self._refresh()
        # B: 35 × 35/60 (days late 30, 30, 45) + 25 × 3/3 + 25 × 1000/3000 = 53.75
        # C: 35 (104 days, capped at 60) + 25 + 25 + 5 (one broken promise) = 90
        self.assertRecordValues(self.partner_a | self.partner_b | self.partner_c | not_due, [
            {'followup_risk_score': 100, 'followup_risk_band': 'good'},
            {'followup_risk_score': 46, 'followup_risk_band': 'watch'},
            {'followup_risk_score': 10, 'followup_risk_band': 'risky'},
            {'followup_risk_score': 100, 'followup_risk_band': False},
        ])
        self.assertFalse(contact.followup_risk_band, "scored on the company (commercial partner) only")
        self.assertEqual(self.partner_b.with_company(self.other_company).followup_risk_band, False,
                         "per company: no invoice in the other company")

    def test_refresh_costs_the_same_queries_for_more_customers(self):
        def customers(count):
            partners = self.Partner.create([{'name': f'Customer {index}'} for index in range(count)])
            for partner in partners:
                self._followup_invoice(1000.0, '2026-01-01', '2026-01-31', partner=partner)
            self.env.flush_all()
            return partners

        warm_up, few, many = customers(1), customers(2), customers(6)
        counts = []
        for partners in (warm_up, few, many):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            partners._followup_refresh_risk(self.company)
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[1], counts[2], "grouped reads per batch, no query per customer")
        self.assertEqual(set(many.mapped('followup_risk_band')), {'risky'})

    def test_board_orders_cases_by_score(self):
        Case = self.env['invoice.followup.case']
        good = Case._followup_open(self._followup_invoice(100.0, '2026-06-01', '2026-07-01'), 'max_reminders')
        risky = Case._followup_open(self._late_history(self.partner_b), 'max_reminders')
        (good | risky).write({'priority': '1'})
        self.assertRecordValues(good | risky, [{'partner_risk_score': 100}, {'partner_risk_score': 100}])
        self._refresh()
        self.assertRecordValues(good | risky, [
            {'partner_risk_score': 100, 'partner_risk_band': False},
            {'partner_risk_score': 46, 'partner_risk_band': 'watch'},
        ])
        self.assertEqual(Case.search([('id', 'in', (good | risky).ids)]).ids, [risky.id, good.id],
                         "the riskier customer first")

    def test_policy_by_band_and_customer_override(self):
        open_invoice = self._late_history(self.partner_b)
        good_invoice = self._followup_invoice(1000.0, '2026-06-01', '2026-07-01')
        self._register_payment(self._followup_invoice(1000.0, '2026-03-01', '2026-03-31'), payment_date='2026-03-31')
        self.company.write({
            'followup_policy_by_risk': True,
            'followup_policy_watch_id': self.policy_strict.id,
            'followup_policy_good_id': False,
        })
        self.assertEqual(open_invoice.followup_policy_id, self.policy, "no band yet: the company default")
        self._refresh()
        self.assertEqual(self.partner_b.followup_risk_band, 'watch')
        self.assertEqual(open_invoice.followup_policy_id, self.policy_strict, "the band's policy, at refresh")
        self.assertEqual(good_invoice.followup_policy_id, self.policy, "a band without policy: the default")
        new_invoice = self._followup_invoice(500.0, '2026-06-10', '2026-07-10', partner=self.partner_b)
        self.assertEqual(new_invoice.followup_policy_id, self.policy_strict)

        self.partner_b.followup_policy_id = self.policy_gentle
        self.assertEqual((open_invoice | new_invoice).followup_policy_id, self.policy_gentle,
                         "the customer's own policy wins over its band")
        self.partner_b.followup_policy_id = False
        self.assertEqual(new_invoice.followup_policy_id, self.policy_strict)

        self.company.followup_policy_by_risk = False
        self.assertEqual((open_invoice | new_invoice).followup_policy_id, self.policy, "rule off: the default")

    def test_band_policy_of_another_company_is_refused(self):
        other_policy = self.env['invoice.followup.policy'].create({
            'name': 'Other company', 'company_id': self.other_company.id,
            'step_ids': [Command.create({'name': 'Due', 'offset_days': 0, 'tone': 'polite',
                                         'mail_template_id': self.template_polite.id})],
        })
        with self.assertRaises(UserError):
            self.company.followup_policy_risky_id = other_policy
