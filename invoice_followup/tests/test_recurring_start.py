# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common_recurring import RecurringCommon


@tagged('post_install', '-at_install')
class TestRecurringStart(RecurringCommon):
    """Periods before the day a schedule is started are billed only once a person confirms them; periods missed
    while it was running catch up by themselves; a copy bills nothing until started."""

    def _start(self, schedule, day):
        with self._at(day):
            return schedule.action_start()

    def _wizard(self, action):
        self.assertIsInstance(action, dict, "starting asks instead of starting")
        self.assertEqual(action['res_model'], 'invoice.followup.recurring.start')
        return self.env['invoice.followup.recurring.start'].browse(action['res_id'])

    def test_start_with_past_periods_lists_them_and_asks(self):
        schedule = self._schedule(start='2026-01-01', state='draft')
        wizard = self._wizard(self._start(schedule, '2026-04-15'))
        self.assertEqual(schedule.state, 'draft', "nothing starts before the person answers")
        self.assertEqual(wizard.period_count, 4, "January to April are billed before April 15")
        self.assertEqual(wizard.amount_total, 4000.0)
        for label in ("January 2026", "February 2026", "March 2026", "April 2026"):
            self.assertIn(label, wizard.period_list)
        self.assertNotIn("May 2026", wizard.period_list)
        with self._at('2026-04-15'):
            self._run_recurring_cron()
        self.assertFalse(self._invoices(schedule))
        with self._at('2026-04-15'):
            wizard.action_skip_past()
            self._run_recurring_cron()
        self.assertEqual(schedule.state, 'running')
        self.assertEqual(schedule.date_started, self._d('2026-04-15'))
        self.assertEqual(schedule.next_invoice_date, self._d('2026-05-01'), "from the next period on")
        self.assertFalse(self._invoices(schedule))
        self.assertTrue(any("4 period(s) before" in (message.preview or '') for message in schedule.message_ids))
        with self._at('2026-05-01'):
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule).mapped('invoice_date'), [self._d('2026-05-01')])

    def test_confirmed_past_periods_are_invoiced_once_each(self):
        schedule = self._schedule(start='2026-01-01', state='draft')
        wizard = self._wizard(self._start(schedule, '2026-04-15'))
        with self._at('2026-04-15'):
            wizard.action_invoice_past()
            self._run_recurring_cron()
            self._run_recurring_cron()
        self.assertEqual(self._invoices(schedule).mapped('invoice_date'), [self._d(day) for day in (
            '2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01')])
        self.assertEqual(schedule.next_invoice_date, self._d('2026-05-01'))
        self.assertTrue(schedule.past_periods_confirmed)
        self.assertTrue(any(self.env.user.name in (message.preview or '') for message in schedule.message_ids),
                        "the chatter says who confirmed")

    def test_start_without_past_periods_starts_at_once(self):
        schedule = self._schedule(start='2026-05-01', state='draft')
        self.assertIs(self._start(schedule, '2026-04-15'), True)
        self.assertEqual(schedule.state, 'running')
        arrears = self._schedule(start='2026-04-01', state='draft', billing_timing='arrears')
        self.assertIs(self._start(arrears, '2026-04-15'), True, "April is billed on May 1: nothing is past")
        today = self._schedule(start='2026-04-15', state='draft')
        self.assertIs(self._start(today, '2026-04-15'), True, "billed today is not in the past")

    def test_missed_periods_while_running_catch_up_without_asking(self):
        schedule = self._schedule(start='2026-01-01', started='2025-12-20')
        with self._at('2026-04-02'):  # the cron did not run from December to April
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 4, "one invoice per period missed while it was running")

    def test_schedule_running_from_an_import_waits_for_confirmation(self):
        with self._at('2026-04-15'):
            schedule = self.env['invoice.followup.recurring'].create({
                'name': 'Imported retainer', 'partner_id': self.partner_a.id, 'date_start': '2026-01-01',
                'state': 'running',
                'line_ids': [Command.create({'name': 'Retainer', 'price_unit': 100.0, 'tax_ids': [Command.clear()]})],
            })
            self._run_recurring_cron()
        self.assertEqual(schedule.date_started, self._d('2026-04-15'))
        self.assertFalse(self._invoices(schedule), "nothing before the day it started, without a person's word")
        self.assertEqual(schedule.past_period_count, 4)
        with self._at('2026-04-16'):
            self._run_recurring_cron()
        activity = schedule.activity_ids
        self.assertEqual(len(activity), 1, "one to-do, not one per run")
        self.assertIn("earlier periods", activity.summary)
        with self._at('2026-04-16'):
            wizard = self._wizard(schedule.action_review_past_periods())
            self.assertEqual(wizard.period_count, 4)
            wizard.action_invoice_past()
            self._run_recurring_cron()
        self.assertEqual(len(self._invoices(schedule)), 4)
        self.assertEqual(schedule.past_period_count, 0)
        self.assertFalse(schedule.activity_ids, "the to-do is done")

    def test_make_recurring_on_an_old_invoice(self):
        invoice = self._followup_invoice(invoice_date='2025-06-15', due='2025-07-15')
        with self._at('2026-12-01'):
            schedule = self.env['invoice.followup.recurring'].browse(invoice.action_make_recurring()['res_id'])
            wizard = self._wizard(schedule.action_start())
            self.assertEqual(wizard.period_count, 17, "July 15, 2025 to November 15, 2026")
            self._run_recurring_cron()
            self.assertFalse(self._invoices(schedule), "no period is posted or e-mailed without confirmation")
            wizard.action_skip_past()
        self.assertEqual(schedule.next_invoice_date, self._d('2026-12-15'))

    def test_duplicate_is_a_draft_that_bills_nothing_until_started(self):
        schedule = self._schedule(start='2026-01-01')
        with self._at('2026-02-01'):
            self._run_recurring_cron()
        with self._at('2026-03-10'):
            copy = schedule.copy()
            self._run_recurring_cron()
        self.assertEqual((copy.state, copy.period_index, copy.invoice_count), ('draft', 0, 0))
        self.assertFalse(copy.date_started)
        self.assertFalse(copy.next_invoice_date)
        self.assertFalse(self._invoices(copy))
        self.assertEqual(len(self._invoices(schedule)), 3, "the original goes on")
        wizard = self._wizard(self._start(copy, '2026-03-10'))
        self.assertEqual(wizard.period_count, 3, "starting the copy asks about January to March")
        self.assertEqual(copy.state, 'draft')

    def test_name_defaults_to_customer_and_frequency(self):
        Recurring = self.env['invoice.followup.recurring']
        lines = [Command.create({'name': 'Retainer', 'price_unit': 100.0})]
        customer = self.partner_a.display_name
        for interval, unit, frequency in ((1, 'month', "Monthly"), (3, 'month', "Every 3 months"),
                                          (1, 'week', "Weekly"), (2, 'week', "Every 2 weeks"),
                                          (1, 'year', "Yearly"), (1, 'day', "Daily")):
            schedule = Recurring.create({'partner_id': self.partner_a.id, 'interval_number': interval,
                                         'interval_unit': unit, 'line_ids': lines})
            self.assertEqual(schedule.name, f"{customer} — {frequency}")
        self.assertEqual(Recurring.create({'name': 'Hosting', 'partner_id': self.partner_a.id}).name, 'Hosting')
        form = Form(Recurring)
        form.partner_id = self.partner_b
        self.assertEqual(form.name, f"{self.partner_b.display_name} — Monthly")
        form.name = 'Support'
        form.interval_number = 2
        self.assertEqual(form.save().name, 'Support', "a name typed in is kept")
        result = Recurring.load(['partner_id/.id', 'date_start', 'interval_number', 'interval_unit'],
                                [[str(self.partner_a.id), '2027-01-01', '1', 'year']])
        self.assertFalse(result['messages'])
        self.assertEqual(Recurring.browse(result['ids']).name, f"{customer} — Yearly")
