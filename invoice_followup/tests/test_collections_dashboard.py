# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import time
from datetime import datetime

from freezegun import freeze_time
from lxml import etree

from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import freeze_all_time

from ..tools import demo_history
from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCollectionsDashboard(InvoiceFollowupCommon):
    """The dashboard's cards on a ledger built by hand: amount overdue, open cases, reminders sent automatically
    or by hand and the hours saved, each next to the previous period, and the records each card opens.

    The period is the first quarter of 2026; the one before is 3 October – 31 December 2025."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dashboard = cls.env['invoice.followup.dashboard']
        cls.robot = cls.Dashboard._automatic_user()
        cls.person = cls.env.user
        # December: 1000 due 9 January, paid on 20 January (overdue at the end of the year? no: not yet due).
        cls.inv_dec = cls._followup_invoice(1000.0, '2025-12-10', '2026-01-09')
        cls._register_payment(cls.inv_dec, payment_date='2026-01-20')
        # November: 700 due 1 December, paid on 5 January: overdue at the end of the previous period.
        cls.inv_nov = cls._followup_invoice(700.0, '2025-11-01', '2025-12-01')
        cls._register_payment(cls.inv_nov, payment_date='2026-01-05')
        cls.inv_paid = cls._followup_invoice(2000.0, '2026-01-10', '2026-02-09')  # paid on its due date
        cls._register_payment(cls.inv_paid, payment_date='2026-02-09')
        cls.inv_late = cls._followup_invoice(3000.0, '2026-02-15', '2026-03-17')  # unpaid, overdue at 31 March
        cls.inv_part = cls._followup_invoice(1000.0, '2026-01-20', '2026-02-19')  # 400 paid, 600 overdue
        cls._register_payment(cls.inv_part, amount=400.0, payment_date='2026-03-25')
        cls.inv_current = cls._followup_invoice(4000.0, '2026-03-10', '2026-04-09')  # not due at 31 March
        # Reminders: three by the scheduled job, one sent by hand in the quarter; one by the job in December;
        # a test-mode one and a failed one count for nothing.
        cls._log(cls.inv_paid, cls.step_due, '2026-02-09', cls.robot)
        cls._log(cls.inv_late, cls.step_due, '2026-03-17', cls.robot)
        cls._log(cls.inv_late, cls.step_late_7, '2026-03-24', cls.robot)
        cls._log(cls.inv_part, cls.step_due, '2026-02-19', cls.person)
        cls._log(cls.inv_nov, cls.step_due, '2025-12-01', cls.robot)
        cls._log(cls.inv_part, cls.step_late_7, '2026-02-26', cls.robot, is_test=True)
        cls._log(cls.inv_current, cls.step_before, '2026-04-02', cls.robot)  # after the quarter
        cls._log(cls.inv_late, cls.step_late_14, '2026-03-31', cls.robot, state='failed')
        cls.date_from, cls.date_to = cls._d('2026-01-01'), cls._d('2026-03-31')

    @classmethod
    def _log(cls, move, step, day, user, state='sent', is_test=False):
        return cls.env['invoice.followup.log'].with_user(user)._followup_record({
            'move_id': move.id, 'step_id': step.id, 'cycle_key': move.invoice_date_due, 'date': day,
            'state': state, 'is_test': is_test, 'currency_id': move.currency_id.id,
        })

    def _dashboard(self, **values):
        return self.Dashboard.create({
            'company_id': self.company.id, 'date_from': self.date_from, 'date_to': self.date_to, **values})

    def _case(self, move, reason, opened, resolved=None):
        with self._at(opened):
            case = self.env['invoice.followup.case'].sudo().create({
                'company_id': self.company.id, 'partner_id': move.partner_id.id, 'reason': reason,
                'move_ids': [(6, 0, move.ids)]})
        if resolved:
            with self._at(resolved):
                case.action_resolve()
                self.env.flush_all()  # the resolved date is computed on that day
        return case

    def test_amount_overdue_at_the_end_of_each_period(self):
        # 31 March: the rest of the partly paid invoice (600) and the unpaid one due 17 March (3000).
        self.assertAlmostEqual(self.Dashboard._overdue_receivables(self.company, self.date_to), 3600.0)
        # 31 December: November's 700, paid in January; December's 1000 is not due yet.
        self.assertAlmostEqual(self.Dashboard._overdue_receivables(self.company, self._d('2025-12-31')), 700.0)
        # Due on the day is not overdue yet.
        self.assertAlmostEqual(self.Dashboard._overdue_receivables(self.company, self._d('2026-03-17')), 1000.0)
        dashboard = self._dashboard()
        self.assertAlmostEqual(dashboard.amount_overdue, 3600.0)
        self.assertAlmostEqual(dashboard.prev_amount_overdue, 700.0)
        records = self.env['invoice.followup.report'].search(dashboard.action_open_overdue()['domain'])
        self.assertEqual(records.move_id, self.inv_late | self.inv_part)

    def test_open_cases_at_the_end_of_each_period(self):
        self._case(self.inv_late, 'dispute', '2026-03-20')  # open since
        self._case(self.inv_part, 'promise', '2025-12-15', resolved='2026-02-01')  # open only at the end of 2025
        self._case(self.inv_paid, 'max_reminders', '2026-02-10', resolved='2026-03-01')  # opened and closed within
        self._case(self.inv_current, 'customer_reply', '2026-04-05')  # after the quarter
        dashboard = self._dashboard()
        self.assertEqual(dashboard.open_cases, 1)
        self.assertEqual(dashboard.prev_open_cases, 1)
        cases = self.env['invoice.followup.case'].search(dashboard.action_open_open_cases()['domain'])
        self.assertEqual(cases.move_ids, self.inv_late)
        self.assertEqual(cases.reason, 'dispute')

    def test_reminders_sent_automatically_and_hours_saved(self):
        origin = self.Dashboard._reminder_origin(self.company, self.date_from, self.date_to)
        self.assertEqual(origin, {'auto': 3, 'manual': 1}, "the test-mode, failed and later ones do not count")
        dashboard = self._dashboard(minutes_per_reminder=6)
        self.assertEqual((dashboard.auto_reminders, dashboard.manual_reminders), (3, 1))
        self.assertAlmostEqual(dashboard.auto_reminder_rate, 75.0)
        self.assertAlmostEqual(dashboard.hours_saved, 3 * 6 / 60)
        self.assertEqual((dashboard.prev_auto_reminders, dashboard.prev_manual_reminders), (1, 0))
        self.assertAlmostEqual(dashboard.prev_auto_reminder_rate, 100.0)
        self.assertAlmostEqual(dashboard.prev_hours_saved, 6 / 60)
        Log = self.env['invoice.followup.log']
        auto = Log.search(dashboard.action_open_auto_reminders()['domain'])
        self.assertEqual(len(auto), 3)
        self.assertEqual(auto.create_uid, self.robot)
        manual = Log.search(dashboard.action_open_manual_reminders()['domain'])
        self.assertEqual((manual.move_id, manual.step_id), (self.inv_part, self.step_due))
        self.assertEqual(len(Log.search(dashboard.action_open_reminders()['domain'])), 4)

    def test_every_card_opens_the_records_behind_its_figure(self):
        dashboard = self._dashboard()
        Report = self.env['invoice.followup.report']

        def moves(action):
            self.assertEqual(action['res_model'], 'invoice.followup.report')
            self.assertNotIn('search_default_filter_invoice_date', action['context'],
                             "no default filter may hide records behind the figure")
            return Report.search(action['domain']).move_id

        quarter = self.inv_paid | self.inv_late | self.inv_part | self.inv_current
        self.assertEqual(moves(dashboard.action_open_cei()), quarter)
        self.assertEqual(moves(dashboard.action_open_on_time()), quarter,
                         "paid or past due on 15 June: whether it was paid on time is known")
        self.assertEqual(moves(dashboard.action_open_days_late()), quarter - self.inv_paid,
                         "the three open ones are late on 15 June")
        self.assertEqual(moves(dashboard.action_open_dso()), self.inv_late | self.inv_part | self.inv_current,
                         "owed on 31 March")
        step_chart = dashboard.action_open_step_chart()
        self.assertEqual(Report.search(step_chart['domain']).move_id, self.inv_paid)
        self.assertEqual(self.env['invoice.followup.dso.report'].search(
            dashboard.action_open_dso_chart()['domain']).company_id, self.company)

    def test_form_shows_a_card_per_figure_and_a_readable_title(self):
        dashboard = self._dashboard()
        self.assertEqual(dashboard.display_name, "Collections Dashboard")
        self.assertEqual(self.Dashboard.new({}).display_name, "Collections Dashboard")
        arch = etree.fromstring(self.Dashboard.get_view(view_type='form')['arch'])
        cards = {button.get('data-kpi'): button.get('name') for button in arch.iterfind('.//button[@data-kpi]')}
        self.assertEqual(set(cards), {
            'dso_countback', 'cei', 'on_time_rate', 'avg_days_late', 'open_cases', 'amount_overdue',
            'auto_reminder_rate', 'hours_saved'})
        for kpi, method in cards.items():
            self.assertTrue(arch.xpath(f".//button[@data-kpi='{kpi}']//field[@name='prev_{kpi}']"),
                            f"{kpi} is shown next to the previous period")
            self.assertEqual(getattr(dashboard, method)()['type'], 'ir.actions.act_window')

    def test_period_choices_set_the_dates(self):
        dashboard = self.Dashboard.new({'period': 'last_30'})
        dashboard._onchange_period()
        self.assertEqual((dashboard.date_from, dashboard.date_to), (self._d('2026-05-17'), self._d('2026-06-15')))
        dashboard.period = 'last_365'
        dashboard._onchange_period()
        self.assertEqual(dashboard.date_from, self._d('2025-06-16'))

    def test_dso_by_month_is_the_dashboard_formula(self):
        rows = self.env['invoice.followup.dso.report'].search([('company_id', '=', self.company.id)])
        self.assertEqual(len(rows), 24, "the last 24 months, this one included")
        by_month = {row.date: row for row in rows}
        for month, end in (('2026-01-01', '2026-01-31'), ('2026-02-01', '2026-02-28'), ('2026-03-01', '2026-03-31'),
                           ('2026-06-01', '2026-06-15')):
            row = by_month[self._d(month)]
            self.assertEqual(row.date_end, self._d(end))
            self.assertAlmostEqual(row.dso, self.Dashboard._compute_dso(self.company, row.date, row.date_end),
                                   places=6)
        # March: 3600 overdue + 4000 current = 7600 owed at its end, 4000 sold in 31 days.
        self.assertAlmostEqual(by_month[self._d('2026-03-01')].dso, 7600 / 4000 * 31, places=6)
        self.assertFalse(by_month[self._d('2026-05-01')].dso, "no sale in May: no DSO")


@tagged('post_install', '-at_install')
@freeze_time('2026-06-15')
class TestCollectionsDemoHistory(InvoiceFollowupCommon):
    """The demo's year of history (tools/demo_history.py) gives every card and chart of the dashboard a real
    number, and each customer the behaviour the demo tells."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        started = time.monotonic()
        with freeze_all_time(datetime(2026, 6, 15, 12)):  # the cases open on that day, as in the demo
            cls.customers = demo_history.load_history(cls.env, cls.company, cls.product_a)
        cls.seconds = time.monotonic() - started
        cls.Report = cls.env['invoice.followup.report']

    def _rows(self, name, domain=()):
        return self.Report.search([('partner_id', '=', self.customers[name].id), *domain])

    def test_every_figure_has_a_real_number(self):
        self.assertLess(self.seconds, 60, "the history must not slow the demo's installation down much")
        dashboard = self.env['invoice.followup.dashboard'].create({
            'company_id': self.company.id, 'period': 'last_90', 'date_from': '2026-03-18', 'date_to': '2026-06-15'})
        for name in ('dso_countback', 'cei', 'on_time_rate', 'avg_days_late', 'open_cases', 'amount_overdue',
                     'auto_reminder_rate', 'hours_saved'):
            # the cases were opened when the history was loaded: none was open at the end of the period before
            for figure in (name, f'prev_{name}') if name != 'open_cases' else (name,):
                self.assertGreater(dashboard[figure], 0, f"{figure} shows a real number")
        self.assertLess(dashboard.on_time_rate, 100)
        self.assertLess(dashboard.auto_reminder_rate, 100, "one customer is reminded by hand")
        self.assertEqual(dashboard.open_cases, 3, "the dispute, the broken promise and the payment plan")
        dso = self.env['invoice.followup.dso.report'].search([('company_id', '=', self.company.id), ('dso', '>', 0)])
        self.assertGreaterEqual(len(dso), 12, "a DSO for each month with sales")
        self.assertGreaterEqual(len(dashboard._aging(self.company)), 2, "open invoices in several aging buckets")
        paid_after = self.Report._read_group(
            [('company_id', '=', self.company.id), ('is_paid', '=', True), ('last_step_id', '!=', False)],
            ['last_step_id'], ['__count'])
        self.assertGreaterEqual(len(paid_after), 3, "invoices paid after several different steps")

    def test_each_customer_behaves_as_told(self):
        early = self._rows("Alder Analytics", [('is_paid', '=', True)])
        self.assertGreaterEqual(len(early), 11)
        self.assertEqual(early.mapped('days_late'), [0] * len(early), "pays early")
        self.assertTrue(all(row.paid_date < row.due_date for row in early), "pays before the due date")
        second = self._rows("Ember Robotics", [('is_paid', '=', True)])
        self.assertEqual(set(second.last_step_id.mapped('offset_days')), {7}, "pays after the second reminder")
        self.assertEqual(self._rows("Ember Robotics", [('reminder_count', '=', 3)]), second,
                         "got the reminders before, on and a week after the due date")
        Case = self.env['invoice.followup.case']
        for name, reason in (("Hollow Pine Crafts", 'dispute'), ("Ironbark Retail", 'broken_promise'),
                             ("Juniper Clinics", 'payment_plan')):
            case = Case.search([('partner_id', '=', self.customers[name].id), ('is_open', '=', True)])
            self.assertEqual(case.reason, reason, name)
        plan = Case.search([('partner_id', '=', self.customers["Juniper Clinics"].id)])
        self.assertEqual(plan.plan_line_ids.mapped('is_checked'), [True, True, False], "two installments paid")
        self.assertEqual(plan.move_ids.payment_state, 'partial')
        by_hand = self.env['invoice.followup.log'].search([('partner_id', '=', self.customers["Kestrel Foods"].id)])
        self.assertEqual(by_hand.create_uid, self.env.ref('base.user_admin'), "reminded by hand")
        larch = self._rows("Larch Schools", [('is_paid', '=', True)])
        before = larch.filtered(lambda row: row.invoice_date < self._d('2025-11-01'))
        after = larch.filtered(lambda row: row.invoice_date >= self._d('2026-01-01'))
        self.assertGreater(min(before.mapped('days_late')), 10, "paid late before the reminders started")
        self.assertLessEqual(max(after.mapped('days_late')), 2, "on time since")

    def test_opens_and_clicks_show(self):
        dashboard = self.env['invoice.followup.dashboard'].create({
            'company_id': self.company.id, 'period': 'last_90', 'date_from': '2026-03-18', 'date_to': '2026-06-15'})
        for figure in ('reminder_opened_rate', 'reminder_clicked_rate', 'prev_reminder_opened_rate'):
            self.assertGreater(dashboard[figure], 0, f"{figure} shows a real number")
        self.assertLess(dashboard.reminder_opened_rate, 100, "some reminders are not opened")
        self.assertLess(dashboard.reminder_clicked_rate, dashboard.reminder_opened_rate)
        steps = dashboard._tracking_stats(
            self.company, dashboard.date_from, dashboard.date_to, dashboard.reminder_days, ['step_id'])
        self.assertGreaterEqual(len(steps), 3, "a row per step")
        self.assertTrue(any(row['paid_rate'] for row in steps), "some reminders are paid within the week")
        self.assertGreater(dashboard.opened_unpaid_count, 0, "customers who opened a reminder and have not paid")
        Log = self.env['invoice.followup.log']
        self.assertFalse(Log.search_count([('opened_date', '>', '2026-06-15 12:00:00')]), "no open in the future")
        self.assertFalse(Log.search_count([('clicked_date', '!=', False), ('opened_date', '=', False)]),
                         "a click implies an open")


@tagged('post_install', '-at_install')
class TestCollectionsDashboardTour(HttpCase):
    """In a browser: Accounting › Reporting › Collections › Collections Dashboard, then the Open Cases card opens
    the cases behind its figure."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.ref('base.user_admin').company_id
        partner = cls.env['res.partner'].create({'name': 'Dashboard Tour Customer'})
        cls.env['invoice.followup.case'].create({
            'company_id': company.id, 'partner_id': partner.id, 'reason': 'dispute'})

    def test_dashboard_card_opens_its_records(self):
        self.start_tour('/odoo', 'invoice_followup_dashboard_tour', login='admin')

