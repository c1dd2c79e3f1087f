# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCollectionsMetrics(InvoiceFollowupCommon):
    """A small ledger built by hand (first quarter 2026, one invoice of December 2025 before it): every figure
    of the dashboard is checked against the value worked out by hand from the formulas of the README."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dashboard = cls.env['invoice.followup.dashboard']
        # December: 1000, paid on 5 January. Receivables at 31 December: 1000.
        cls.inv_dec = cls._followup_invoice(1000.0, '2025-12-10', '2026-01-09')
        cls._register_payment(cls.inv_dec, payment_date='2026-01-05')
        # First quarter: credit sales 2000 + 1000 + 500 + 3000 + 4000 + 1000 = 11500.
        cls.inv_a = cls._followup_invoice(2000.0, '2026-01-10', '2026-02-09')  # paid on its due date
        cls._register_payment(cls.inv_a, payment_date='2026-02-09')
        cls.inv_b = cls._followup_invoice(1000.0, '2026-01-20', '2026-02-19')  # paid 10 days late
        cls._register_payment(cls.inv_b, payment_date='2026-03-01')
        cls.inv_f = cls._followup_invoice(500.0, '2026-02-01', '2026-03-03')  # paid early, never reminded
        cls._register_payment(cls.inv_f, payment_date='2026-02-20')
        cls.inv_c = cls._followup_invoice(3000.0, '2026-02-15', '2026-03-17')  # unpaid, overdue
        cls.inv_d = cls._followup_invoice(4000.0, '2026-03-10', '2026-04-09')  # unpaid, not due at 31 March
        cls.inv_e = cls._followup_invoice(1000.0, '2026-03-20', '2026-04-19')  # 400 paid, not due
        cls._register_payment(cls.inv_e, amount=400.0, payment_date='2026-03-25')
        # Reminders: A on its due date; B on its due date and a week later (then paid), and once more after
        # the payment (not counted); C on its due date. A failed and a test reminder count for nothing.
        cls._log(cls.inv_a, cls.step_due, '2026-02-09')
        cls._log(cls.inv_b, cls.step_due, '2026-02-19')
        cls._log(cls.inv_b, cls.step_late_7, '2026-02-26')
        cls._log(cls.inv_b, cls.step_late_14, '2026-03-05')
        cls._log(cls.inv_c, cls.step_due, '2026-03-17')
        cls._log(cls.inv_c, cls.step_late_7, '2026-03-24', state='failed')
        cls._log(cls.inv_f, cls.step_before, '2026-02-10', is_test=True)
        cls.date_from, cls.date_to = cls._d('2026-01-01'), cls._d('2026-03-31')

    @classmethod
    def _log(cls, move, step, day, state='sent', is_test=False):
        return cls.env['invoice.followup.log'].sudo().create({
            'move_id': move.id, 'step_id': step.id, 'cycle_key': move.invoice_date_due, 'date': day,
            'state': state, 'is_test': is_test, 'currency_id': move.currency_id.id,
            'amount_due': move.amount_residual,
        })

    def test_ledger_is_what_we_built(self):
        for invoice in self.inv_a | self.inv_b | self.inv_f | self.inv_dec:
            self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.inv_e.payment_state, 'partial')
        self.assertAlmostEqual(self.Dashboard._receivables(self.company, self._d('2025-12-31')), 1000.0)
        self.assertAlmostEqual(self.Dashboard._receivables(self.company, self.date_to), 7600.0)
        self.assertAlmostEqual(self.Dashboard._credit_sales(self.company, self.date_from, self.date_to), 11500.0)
        # Not yet due at 31 March: D (4000) and what is left of E (1000 - 400).
        self.assertAlmostEqual(self.Dashboard._current_receivables(self.company, self.date_to), 4600.0)
        # At 31 January, A and B were current, and they were paid later: the payments do not count yet.
        self.assertAlmostEqual(self.Dashboard._current_receivables(self.company, self._d('2026-01-31')), 3000.0)

    def test_dso_simple(self):
        # 7600 / 11500 × 90 days
        self.assertAlmostEqual(self.Dashboard._compute_dso(self.company, self.date_from, self.date_to),
                               7600 / 11500 * 90)
        self.assertAlmostEqual(self.Dashboard._compute_dso(self.company, self._d('2026-03-01'), self.date_to),
                               7600 / 5000 * 31)
        self.assertEqual(self.Dashboard._compute_dso(self.company, self._d('2025-01-01'), self._d('2025-01-31')),
                         0.0, "no sales: no DSO rather than a division by zero")

    def test_dso_trend_by_month(self):
        trend = self.Dashboard._monthly_dso(self.company, self.date_to, months=3)
        self.assertEqual([start for start, _dso in trend],
                         [self._d('2026-01-01'), self._d('2026-02-01'), self._d('2026-03-01')])
        self.assertAlmostEqual(trend[-1][1], 7600 / 5000 * 31, msg="March: 7600 owed on 31 March, 5000 sold")
        dashboard = self.Dashboard.create({'date_from': self.date_from, 'date_to': self.date_to})
        self.assertIn('March 2026', dashboard.dso_trend_html)
        self.assertIn(f"{7600 / 5000 * 31:.1f}", dashboard.dso_trend_html)

    def test_dso_countback(self):
        # 7600 owed at 31 March; March sold 5000 (31 days), leaves 2600; February sold 3500: 2600/3500 × 28.
        self.assertAlmostEqual(self.Dashboard._compute_dso_countback(self.company, self.date_to),
                               31 + 2600 / 3500 * 28)
        # At 15 March (partial month): 7000 owed (C, D; A, B, F paid); 1-15 March sold 4000 in 15 days, leaves
        # 3000; February sold 3500 over 28 days.
        self.assertAlmostEqual(self.Dashboard._compute_dso_countback(self.company, self._d('2026-03-15')),
                               15 + 3000 / 3500 * 28)
        self.assertEqual(self.Dashboard._compute_dso_countback(self.company, self._d('2025-11-30')), 0.0)

    def test_cei(self):
        # (1000 + 11500 − 7600) / (1000 + 11500 − 4600) × 100
        self.assertAlmostEqual(self.Dashboard._compute_cei(self.company, self.date_from, self.date_to),
                               4900 / 7900 * 100)

    def test_payment_behaviour(self):
        stats = self.Dashboard._payment_stats(self.company, self.date_from, self.date_to)
        self.assertEqual(stats['due_count'], 6, "every invoice of the quarter is paid or past due")
        self.assertEqual(stats['paid_count'], 3)
        self.assertAlmostEqual(stats['on_time_rate'], 2 / 6 * 100, msg="A and F out of six")
        self.assertAlmostEqual(stats['avg_days_to_pay'], (30 + 40 + 19) / 3)
        late = [10, 90, 67, 57]  # B paid 10 days late; C, D and E, due 17 March, 9 and 19 April, open on 15 June
        self.assertAlmostEqual(stats['avg_days_late'], sum(late) / 4, msg="B paid 10 days late, C, D, E still open")
        self.assertAlmostEqual(stats['reminders_per_paid'], (1 + 2 + 0) / 3,
                               msg="B's reminder after its payment, the failed and the test ones do not count")
        self.assertAlmostEqual(stats['no_reminder_rate'], 1 / 3 * 100, msg="F was paid without a reminder")

    def test_reminder_effect_by_step(self):
        effect = self.Dashboard._reminder_effect(self.company, self.date_from, self.date_to, days=7)
        self.assertEqual(effect[self.step_due], {'reminded': 3, 'paid': 1, 'rate': 1 / 3 * 100},
                         "A, B and C got it; A paid the same day")
        self.assertEqual(effect[self.step_late_7], {'reminded': 1, 'paid': 1, 'rate': 100.0},
                         "B paid 3 days after it")
        self.assertEqual(effect[self.step_late_14], {'reminded': 1, 'paid': 0, 'rate': 0.0})
        self.assertNotIn(self.step_before, effect, "a test-mode reminder is not a reminder")
        strict = self.Dashboard._reminder_effect(self.company, self.date_from, self.date_to, days=2)
        self.assertEqual(strict[self.step_late_7]['paid'], 0, "3 days is not within 2")
        self.assertEqual(strict[self.step_due]['paid'], 1)

    def test_dashboard_shows_the_period_and_the_previous_one(self):
        dashboard = self.Dashboard.create({
            'company_id': self.company.id, 'date_from': '2026-01-01', 'date_to': '2026-03-31'})
        self.assertAlmostEqual(dashboard.dso, 7600 / 11500 * 90, places=6)
        self.assertAlmostEqual(dashboard.dso_countback, 31 + 2600 / 3500 * 28, places=6)
        self.assertAlmostEqual(dashboard.cei, 4900 / 7900 * 100, places=6)
        self.assertAlmostEqual(dashboard.on_time_rate, 2 / 6 * 100, places=6)
        self.assertAlmostEqual(dashboard.reminder_conversion_rate, 2 / 5 * 100, places=6)
        self.assertAlmostEqual(dashboard.receivables, 7600.0)
        # The 90 days before: 3 October – 31 December 2025, one sale of 1000 still owed at the end.
        self.assertEqual(dashboard.prev_date_from, self._d('2025-10-03'))
        self.assertEqual(dashboard.prev_date_to, self._d('2025-12-31'))
        self.assertAlmostEqual(dashboard.prev_dso, 90.0)
        self.assertAlmostEqual(dashboard.prev_credit_sales, 1000.0)
        self.assertAlmostEqual(dashboard.prev_cei, 0.0, msg="nothing collected in the period; all of it current")
        self.assertEqual(dashboard.prev_on_time_rate, 100.0, "the December invoice was paid before its due date")
        action = dashboard.action_open_analysis()
        self.assertEqual(self.env['invoice.followup.report'].search(action['domain']).move_id,
                         self.inv_a | self.inv_b | self.inv_c | self.inv_d | self.inv_e | self.inv_f)

    def test_bad_period_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "The period must start before it ends"):
            self.Dashboard.create({'company_id': self.company.id, 'date_from': '2026-03-31',
                                   'date_to': '2026-01-01'})
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.Dashboard.create({'company_id': self.company.id, 'date_from': '2026-01-01',
                                   'date_to': '2026-03-31', 'reminder_days': -1})

    def test_other_company_figures_are_apart(self):
        other = self.setup_other_company(name='Other collections company')['company']
        self.assertEqual(self.Dashboard._credit_sales(other, self.date_from, self.date_to), 0.0)
        self.assertEqual(self.Dashboard._receivables(other, self.date_to), 0.0)
        self.assertEqual(self.Dashboard._payment_stats(other, self.date_from, self.date_to)['due_count'], 0)
