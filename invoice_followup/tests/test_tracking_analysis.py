# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestTrackingAnalysis(InvoiceFollowupCommon):
    """Opens and clicks in the analysis and on the dashboard, on a small set of reminders built by hand: per step and
    per template, sent, opened %, clicked %, paid within 7 days %, and the customers who opened and did not pay.

    The period is the first quarter of 2026. Reminders (date, step, template, opened, clicked, invoice paid on):
      inv_quick  9 Feb  On the day   polite        opened, clicked pay    paid 12 Feb (3 days: within 7)
      inv_slow   19 Feb On the day   polite        opened                 paid 5 March (14 days: not within 7)
      inv_open   1 Mar  On the day   polite        -                      not paid
      inv_open   8 Mar  Week late    firm          opened, clicked respond not paid
      inv_b1     20 Mar Week late    consolidated  opened, clicked pay    paid 22 March (within 7)
      inv_b2     20 Mar Week late    consolidated  opened, clicked pay    not paid   (the same e-mail as inv_b1)
    and, counting for nothing: a test-mode reminder opened, a failed one, one sent after the quarter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.consolidated = cls.env.ref('invoice_followup.mail_template_followup_consolidated')
        cls.inv_quick = cls._followup_invoice(1000.0, '2026-01-10', '2026-02-09')
        cls._register_payment(cls.inv_quick, payment_date='2026-02-12')
        cls.inv_slow = cls._followup_invoice(2000.0, '2026-01-20', '2026-02-19')
        cls._register_payment(cls.inv_slow, payment_date='2026-03-05')
        cls.inv_open = cls._followup_invoice(3000.0, '2026-01-30', '2026-03-01')
        cls.inv_b1 = cls._followup_invoice(400.0, '2026-02-05', '2026-03-13', partner=cls.partner_b)
        cls._register_payment(cls.inv_b1, payment_date='2026-03-22')
        cls.inv_b2 = cls._followup_invoice(600.0, '2026-02-05', '2026-03-13', partner=cls.partner_b)
        cls.inv_other = cls._followup_invoice(700.0, '2026-02-01', '2026-03-03')
        opened, clicked = '2026-02-09 10:00:00', '2026-02-09 10:05:00'
        cls.log_quick = cls._log(cls.inv_quick, cls.step_due, '2026-02-09', opened, clicked, 'pay')
        cls._log(cls.inv_slow, cls.step_due, '2026-02-19', '2026-02-20 08:00:00')
        cls._log(cls.inv_open, cls.step_due, '2026-03-01')
        cls._log(cls.inv_open, cls.step_late_7, '2026-03-08', '2026-03-08 09:00:00', '2026-03-08 09:01:00', 'respond')
        message = cls.env['mail.message'].create({'model': 'account.move', 'res_id': cls.inv_b1.id, 'body': 'Both'})
        for move in (cls.inv_b1, cls.inv_b2):
            cls._log(move, cls.step_late_7, '2026-03-20', '2026-03-20 12:00:00', '2026-03-20 12:00:00', 'pay',
                     mail_message_id=message.id)
        cls._log(cls.inv_other, cls.step_due, '2026-03-03', '2026-03-03 09:00:00', is_test=True)
        cls._log(cls.inv_other, cls.step_late_7, '2026-03-10', state='failed')
        cls._log(cls.inv_other, cls.step_late_14, '2026-04-02')
        cls.date_from, cls.date_to = cls._d('2026-01-01'), cls._d('2026-03-31')

    @classmethod
    def _log(cls, move, step, day, opened=False, clicked=False, link=False, state='sent', **values):
        return cls.env['invoice.followup.log']._followup_record({
            'move_id': move.id, 'step_id': step.id, 'cycle_key': move.invoice_date_due, 'date': day, 'state': state,
            'currency_id': move.currency_id.id, 'opened_date': opened, 'clicked_date': clicked, 'clicked_link': link,
            **values,
        })

    def _stats(self, groupby=()):
        return {row['key']: row for row in self.env['invoice.followup.kpi']._tracking_stats(
            self.company, self.date_from, self.date_to, 7, groupby)}

    def _assert_rates(self, row, sent, opened, clicked, paid):
        self.assertEqual(row['sent'], sent)
        self.assertAlmostEqual(row['opened_rate'], opened, places=1)
        self.assertAlmostEqual(row['clicked_rate'], clicked, places=1)
        self.assertAlmostEqual(row['paid_rate'], paid, places=1)

    def test_per_step(self):
        stats = self._stats(['step_id'])
        self.assertEqual(set(stats), {self.step_due, self.step_late_7}, "the test, failed and later ones count not")
        self._assert_rates(stats[self.step_due], 3, 200 / 3, 100 / 3, 100 / 3)
        self._assert_rates(stats[self.step_late_7], 3, 100.0, 100.0, 100 / 3)

    def test_per_template(self):
        stats = self._stats(['template_id'])
        self.assertEqual(set(stats), {self.template_polite, self.template_firm, self.consolidated},
                         "the e-mail of several invoices counts under its own template")
        self._assert_rates(stats[self.template_polite], 3, 200 / 3, 100 / 3, 100 / 3)
        self._assert_rates(stats[self.template_firm], 1, 100.0, 100.0, 0.0)
        self._assert_rates(stats[self.consolidated], 2, 100.0, 100.0, 50.0)

    def test_totals_and_pivot_rates(self):
        [total] = self._stats().values()
        self._assert_rates(total, 6, 500 / 6, 400 / 6, 200 / 6)
        # The analysis's rates are averages per reminder: a pivot by step shows the same shares.
        Report = self.env['invoice.followup.reminder.report']
        rows = Report._read_group(
            [('company_id', '=', self.company.id), ('date', '>=', self.date_from), ('date', '<=', self.date_to)],
            ['step_id'], ['sent_count:sum', 'opened_rate:avg', 'clicked_rate:avg', 'paid_within_rate:avg'])
        by_step = {step: values for step, *values in rows}
        for value, expected in zip(by_step[self.step_due], (3, 200 / 3, 100 / 3, 100 / 3), strict=True):
            self.assertAlmostEqual(value, expected, places=1)
        quick = Report.search([('log_id', '=', self.log_quick.id)])
        self.assertEqual((quick.days_to_pay, quick.is_paid_within, quick.clicked_link), (3, True, 'pay'))

    def test_invoice_analysis_counts_opens_and_clicks(self):
        Report = self.env['invoice.followup.report']
        row = Report.search([('move_id', '=', self.inv_open.id)])
        self.assertEqual((row.reminder_count, row.opened_count, row.clicked_count), (2, 1, 1))
        self.assertEqual(row.last_opened_date, self._dt('2026-03-08 09:00:00'))
        other = Report.search([('move_id', '=', self.inv_other.id)])
        self.assertEqual((other.reminder_count, other.opened_count), (1, 0), "the test-mode reminder counts not")

    def test_dashboard_shows_rates_tables_and_opened_not_paid(self):
        dashboard = self.env['invoice.followup.dashboard'].create({
            'company_id': self.company.id, 'date_from': self.date_from, 'date_to': self.date_to})
        self.assertAlmostEqual(dashboard.reminder_opened_rate, 500 / 6, places=1)
        self.assertAlmostEqual(dashboard.reminder_clicked_rate, 400 / 6, places=1)
        self.assertEqual((dashboard.prev_reminder_opened_rate, dashboard.prev_reminder_clicked_rate), (0.0, 0.0))
        html = str(dashboard.tracking_html)
        self.assertIn(self.step_due.display_name, html)
        self.assertIn(self.consolidated.display_name, html)
        self.assertIn('66.7 %', html)
        self.assertIn('Paid within 7 Days', html)
        # Opened, not paid: inv_open (partner_a, 3000) and inv_b2 (partner_b, 600); inv_other's open was a test.
        customers = self.env['invoice.followup.kpi']._opened_not_paid(self.company)
        self.assertEqual([(partner, count, amount) for partner, count, amount, _last in customers],
                         [(self.partner_a, 1, 3000.0), (self.partner_b, 1, 600.0)])
        self.assertEqual(dashboard.opened_unpaid_count, 2)
        self.assertIn(self.partner_b.display_name, str(dashboard.opened_unpaid_html))
        records = self.env['invoice.followup.report'].search(dashboard.action_open_opened_unpaid()['domain'])
        self.assertEqual(records.move_id, self.inv_open | self.inv_b2)
        reminders = self.env['invoice.followup.reminder.report'].search(
            dashboard.action_open_reminder_analysis()['domain'])
        self.assertEqual(len(reminders), 6)

    @staticmethod
    def _dt(value):
        return fields.Datetime.to_datetime(value)
