# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common_recurring import RecurringCommon


@tagged('post_install', '-at_install')
class TestRecurringSchedule(RecurringCommon):
    """Billing dates and periods: month ends, leap years, in advance or in arrears, end by date or count."""

    def _dates(self, schedule, count):
        return [schedule._billing_date(index) for index in range(count)]

    def test_month_end_anchor_keeps_the_31st(self):
        schedule = self._schedule(start='2027-01-31', state='draft')
        self.assertEqual(self._dates(schedule, 6), [self._d(day) for day in (
            '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30')],
            "anchored on the 31st: Feb 28, then the 31st again when the month has one, never drifting to 28")
        self.assertEqual(schedule._period(1), (self._d('2027-02-28'), self._d('2027-03-30')))
        leap = self._schedule(start='2028-01-31', state='draft')
        self.assertEqual(self._dates(leap, 3), [self._d('2028-01-31'), self._d('2028-02-29'), self._d('2028-03-31')])

    def test_quarterly_and_yearly_month_ends(self):
        quarterly = self._schedule(start='2027-11-30', state='draft', interval_number=3)
        self.assertEqual(self._dates(quarterly, 4), [self._d(day) for day in (
            '2027-11-30', '2028-02-29', '2028-05-30', '2028-08-30')])
        yearly = self._schedule(start='2028-02-29', state='draft', interval_unit='year')
        self.assertEqual(self._dates(yearly, 5), [self._d(day) for day in (
            '2028-02-29', '2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29')])
        weekly = self._schedule(start='2026-12-28', state='draft', interval_number=2, interval_unit='week')
        self.assertEqual(self._dates(weekly, 3), [self._d('2026-12-28'), self._d('2027-01-11'), self._d('2027-01-25')])
        daily = self._schedule(start='2026-02-27', state='draft', interval_unit='day')
        self.assertEqual(self._dates(daily, 3), [self._d('2026-02-27'), self._d('2026-02-28'), self._d('2026-03-01')])

    def test_in_advance_and_in_arrears(self):
        advance = self._schedule(start='2026-11-01')
        arrears = self._schedule(start='2026-11-01', billing_timing='arrears')
        self.assertEqual(advance.next_invoice_date, self._d('2026-11-01'))
        self.assertEqual(arrears.next_invoice_date, self._d('2026-12-01'), "in arrears: the day after the period")
        with self._at('2026-11-01'):
            self._run_recurring_cron()
        invoice = self._invoices(advance)
        self.assertEqual(invoice.invoice_date, self._d('2026-11-01'))
        self.assertEqual((invoice.recurring_period_start, invoice.recurring_period_end),
                         (self._d('2026-11-01'), self._d('2026-11-30')))
        self.assertEqual(invoice.invoice_line_ids.name, "Retainer — November 2026")
        self.assertFalse(self._invoices(arrears), "the period is not over yet")
        with self._at('2026-12-01'):
            self._run_recurring_cron()
        invoice = self._invoices(arrears)
        self.assertEqual(invoice.invoice_date, self._d('2026-12-01'))
        self.assertEqual(invoice.invoice_line_ids.name, "Retainer — November 2026", "it bills the month just over")
        self.assertEqual(len(self._invoices(advance)), 2)
        self.assertEqual(self._invoices(advance)[1].invoice_line_ids.name, "Retainer — December 2026")

    def test_period_labels(self):
        schedule = self._schedule(start='2026-01-31', state='draft')
        self.assertEqual(schedule._period_label(*schedule._period(0)), "01/31/2026 to 02/27/2026")
        yearly = self._schedule(start='2027-01-01', state='draft', interval_unit='year')
        self.assertEqual(yearly._period_label(*yearly._period(0)), "2027")

    def test_next_three_dates_and_ends(self):
        schedule = self._schedule(start='2027-01-31', state='draft')
        self.assertEqual(schedule.next_dates_display, "01/31/2027, 02/28/2027, 03/31/2027")
        schedule.max_invoices = 2
        self.assertEqual(schedule.next_dates_display, "01/31/2027, 02/28/2027")
        schedule.write({'max_invoices': 0, 'date_end': '2027-01-31'})
        self.assertEqual(schedule.next_dates_display, "01/31/2027", "a period starting on the end date is billed")

    def test_bad_input_in_the_users_words(self):
        with self.assertRaisesRegex(ValidationError, "end date of “Retainer” is before its start date"):
            self._schedule(start='2027-01-31', date_end='2027-01-01', state='draft')
        with self.assertRaisesRegex(ValidationError, "only send its invoices automatically if it also posts"):
            self._schedule(auto_post=False, auto_send=True, state='draft')
        with self.assertRaises(IntegrityError), mute_logger('odoo.sql_db'), self.cr.savepoint():
            self._schedule(interval_number=0, state='draft')
        with self.assertRaises(IntegrityError), mute_logger('odoo.sql_db'), self.cr.savepoint():
            self._schedule(max_invoices=-1, state='draft')
        empty = self._schedule(state='draft', lines=[Command.clear()])
        with self.assertRaisesRegex(UserError, "Add at least one line"):
            empty.action_start()
        schedule = self._schedule(start='2026-11-01')
        with self._at('2026-11-01'):
            schedule.action_generate_now()
        with self.assertRaisesRegex(UserError, "cannot change: end it and create a new one"):
            schedule.date_start = '2026-11-15'
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            schedule.unlink()
        with self.assertRaisesRegex(UserError, "Only a paused schedule can be resumed"):
            self._schedule(state='draft').action_resume()

    def test_make_recurring_from_an_invoice(self):
        invoice = self._create_invoice(
            invoice_date='2026-10-15', partner_id=self.partner_b.id, post=True,
            invoice_line_ids=[self._prepare_invoice_line(price_unit=250.0, product_id=self.product_a,
                                                         tax_ids=self.tax_sale_a)])
        action = invoice.action_make_recurring()
        schedule = self.env['invoice.followup.recurring'].browse(action['res_id'])
        self.assertEqual(schedule.partner_id, self.partner_b)
        self.assertEqual(schedule.state, 'draft')
        self.assertEqual(schedule.date_start, self._d('2026-11-15'), "the next period after the invoice's")
        self.assertEqual(schedule.journal_id, invoice.journal_id)
        self.assertEqual(schedule.line_ids.price_unit, 250.0)
        self.assertEqual(schedule.line_ids.tax_ids, self.tax_sale_a)
        # The server action of the invoice's action menu does the same.
        server_action = self.env.ref('invoice_followup.action_server_make_recurring')
        result = server_action.with_context(active_model='account.move', active_id=invoice.id,
                                            active_ids=invoice.ids).run()
        self.assertEqual(result['res_model'], 'invoice.followup.recurring')

    def test_beside_odoo_auto_post(self):
        odoo_recurring = self._create_invoice(invoice_date='2026-10-15', partner_id=self.partner_b.id,
                                              auto_post='monthly', post=False,
                                              invoice_line_ids=[self._prepare_invoice_line(price_unit=10.0)])
        with self.assertRaisesRegex(UserError, "already repeats with Auto-post"):
            odoo_recurring.action_make_recurring()
        schedule = self._schedule(start='2026-11-01')
        with self._at('2026-12-01'):
            self._run_recurring_cron()
        invoices = self._invoices(schedule)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(set(invoices.mapped('auto_post')), {'no'})
        self.assertEqual(self.env['account.move'].search_count([('partner_id', '=', self.partner_a.id),
                                                                ('move_type', '=', 'out_invoice')]), 2,
                         "posting them made no copy of Odoo's own recurrence")
        with self.assertRaisesRegex(ValidationError, "cannot also repeat with Auto-post"):
            invoices[0].auto_post = 'monthly'


@tagged('post_install', '-at_install')
class TestRecurringSecurity(RecurringCommon):
    """Billing users run schedules, managers delete them, others see nothing; companies stay apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env, 'recurring_billing', groups='base.group_user,account.group_account_invoice',
            company_id=cls.company.id)
        cls.manager = new_test_user(
            cls.env, 'recurring_manager', groups='base.group_user,account.group_account_manager',
            company_id=cls.company.id)
        cls.basic_user = new_test_user(cls.env, 'recurring_basic', groups='base.group_user', company_id=cls.company.id)
        cls.portal_user = new_test_user(cls.env, 'recurring_portal', groups='base.group_portal')

    def test_billing_user_runs_schedules_manager_deletes(self):
        Recurring = self.env['invoice.followup.recurring'].with_user(self.billing_user)
        schedule = Recurring.create({
            'name': 'Billing user retainer', 'partner_id': self.partner_a.id, 'date_start': '2026-11-01',
            'line_ids': [Command.create({'name': 'Retainer', 'price_unit': 100.0, 'tax_ids': [Command.clear()]})],
        })
        with self._at('2026-11-01'):
            schedule.action_start()
            schedule.action_generate_now()
        self.assertEqual(schedule.invoice_count, 1)
        schedule.action_pause()
        with self.assertRaises(AccessError):
            schedule.unlink()
        draft = self._schedule(state='draft')
        with self.assertRaises(AccessError):
            draft.with_user(self.billing_user).unlink()
        draft.with_user(self.manager).unlink()
        self.assertFalse(draft.exists())

    def test_others_cannot_read_or_act(self):
        schedule = self._schedule()
        invoice = self._create_invoice(invoice_date='2026-10-15', partner_id=self.partner_a.id, post=True,
                                       invoice_line_ids=[self._prepare_invoice_line(price_unit=10.0)])
        for user in (self.basic_user, self.portal_user):
            with self.assertRaises(AccessError):
                schedule.with_user(user).read(['name'])
            with self.assertRaises(AccessError):
                schedule.line_ids.with_user(user).read(['price_unit'])
            with self.assertRaises(AccessError):
                self.env['invoice.followup.recurring'].with_user(user).create({
                    'name': 'Nope', 'partner_id': self.partner_a.id})
            with self.assertRaises(AccessError):
                invoice.with_user(user).action_make_recurring()

    def test_companies_stay_apart(self):
        other = self.setup_other_company(name='Other Company')
        company_b = other['company']
        schedule_a = self._schedule(start='2026-11-01')
        schedule_b = self.env['invoice.followup.recurring'].with_company(company_b).create({
            'name': 'Retainer B', 'partner_id': self.partner_b.id, 'date_start': '2026-11-01',
            'line_ids': [Command.create({'name': 'Retainer', 'price_unit': 500.0, 'tax_ids': [Command.clear()]})],
        })
        self.assertEqual(schedule_b.company_id, company_b)
        self.assertEqual(schedule_b.journal_id, other['default_journal_sale'], "the company's own sales journal")
        with self._at('2026-11-01'):
            schedule_b.action_start()
            self._run_recurring_cron()
        invoice_a, invoice_b = self._invoices(schedule_a), self._invoices(schedule_b)
        self.assertEqual(invoice_a.company_id, self.company)
        self.assertEqual((invoice_b.company_id, invoice_b.journal_id), (company_b, other['default_journal_sale']))
        self.assertEqual(invoice_b.state, 'posted')
        visible = self.env['invoice.followup.recurring'].with_user(self.billing_user).search([])
        self.assertIn(schedule_a, visible)
        self.assertNotIn(schedule_b, visible, "a user of company A does not see B's schedules")
        with self.assertRaises(AccessError):
            schedule_b.with_user(self.billing_user).read(['name'])
        with self.assertRaisesRegex(UserError, "company inconsistencies"):
            schedule_a.journal_id = other['default_journal_sale']


@tagged('post_install', '-at_install')
class TestRecurringUi(RecurringCommon):
    """The schedule form as a user fills it in, and the invoice's way back to its schedule."""

    def test_form_fills_a_schedule_and_shows_the_next_dates(self):
        with self._at('2026-11-10'):
            form = Form(self.env['invoice.followup.recurring'])
            form.name = 'Hosting'
            form.partner_id = self.partner_a
            form.date_start = self._d('2027-01-31')
            with form.line_ids.new() as line:
                line.product_id = self.product_a
                line.price_unit = 80.0
            self.assertEqual(form.journal_id, self.journal_sale)
            self.assertEqual(form.next_dates_display, "01/31/2027, 02/28/2027, 03/31/2027")
            schedule = form.save()
            schedule.action_start()
        self.assertEqual(schedule.line_ids.name, self.product_a.get_product_multiline_description_sale())
        self.assertEqual(schedule.line_ids.tax_ids, self.product_a.taxes_id)
        with self._at('2027-01-31'):
            self._run_recurring_cron()
        invoice = schedule.invoice_ids
        self.assertEqual(invoice.action_view_recurring()['res_id'], schedule.id)
        self.assertEqual(schedule.action_view_invoices()['domain'], [('recurring_id', '=', schedule.id)])
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.product_a.taxes_id)
