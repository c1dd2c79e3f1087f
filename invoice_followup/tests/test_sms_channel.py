# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import format_amount, format_date, html2plaintext

from odoo.addons.sms.tests.common import SMSCase

from .common import InvoiceFollowupCommon
from .test_cases import BOUNCE_DSN


@tagged('post_install', '-at_install')
class TestSmsChannel(InvoiceFollowupCommon, SMSCase):
    """SMS reminders through Odoo's own SMS (the gateway mocked by Odoo's SMS test tools): an SMS step texts the
    customer once, is logged like an e-mail, fails like one; an e-mail step's SMS fallback keeps the cadence going
    when the e-mail bounced or there is none."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_a.phone = '+32 456 01 02 03'
        cls.partner_b.phone = '+32 456 04 05 06'
        cls.sms_cron = cls.env.ref('sms.ir_cron_sms_scheduler_action')

    def _run_cron(self):
        self.cron.method_direct_trigger()  # an HttpCase runs in the registry's test mode already
        self.env.invalidate_all()

    def _run_sms_queue(self):
        """Run Odoo's SMS queue as its cron worker does (the reminders' SMS are sent once committed)."""
        self.sms_cron.method_direct_trigger()
        self.env.invalidate_all()

    def _remind(self, day='2026-02-07', **gateway):
        with self._at(day), self.mockSMSGateway(**gateway):
            self._run_cron()
            self._run_sms_queue()

    def _expected_text(self, invoice, day='2026-02-07'):
        with self._at(day):
            invoice.invalidate_recordset()
            return (format_amount(self.env, invoice.followup_amount_due, invoice.currency_id),
                    format_date(self.env, invoice.followup_due_date), invoice.followup_portal_url)

    def test_sms_step_texts_the_customer_once(self):
        self.step_late_7.channel = 'sms'
        self.assertEqual(self.step_late_7.sms_template_id,
                         self.env.ref('invoice_followup.sms_template_followup_firm'), "the tone's shipped text")
        invoice = self._followup_invoice()
        amount, due_date, link = self._expected_text(invoice)
        self._remind()

        number = self.partner_a._phone_format()
        self.assertEqual(len(self._sms), 1, "one SMS")
        self.assertEqual(self._sms[0]['number'], number)
        text = self._sms[0]['body']
        for part in (invoice.name, amount, due_date, link):
            self.assertIn(part, text)
        log = self._logs(invoice)
        self.assertEqual((log.step_id, log.channel, log.state, log.sms_number),
                         (self.step_late_7, 'sms', 'sent', number))
        self.assertFalse(log.mail_id, "no e-mail")
        message = log.mail_message_id
        self.assertEqual((message.model, message.res_id, message.message_type), ('account.move', invoice.id, 'sms'))
        self.assertEqual(message.subtype_id, self.env.ref('mail.mt_note'))
        self.assertSMSNotification([{'partner': self.partner_a, 'number': number, 'state': 'pending'}], text,
                                   messages=message)
        self.assertEqual(log.sms_notification_id.mail_message_id, message)
        self.assertIn(link, html2plaintext(invoice.message_ids[:1].body), "the invoice's chatter shows the SMS")

        for day in ('2026-02-07', '2026-02-08'):
            self._remind(day)
            self.assertEqual(self._sms, [], f"nothing texted again on {day}")
        self.assertEqual(self._logs(invoice), log)

    def test_sms_failure_fails_the_reminder_and_opens_a_case_once(self):
        self.step_late_7.channel = 'sms'
        invoice = self._followup_invoice()
        with self._warns() as warnings:
            self._remind(sim_error='wrong_number_format')
        self.assertIn("Wrong Number Format", warnings.output[0])
        self.assertEqual(self._sms, [])
        log = self._logs(invoice, states=('failed',))
        self.assertEqual((log.step_id, log.channel), (self.step_late_7, 'sms'))
        self.assertSMSNotification([{'partner': self.partner_a, 'number': self.partner_a._phone_format(),
                                     'state': 'exception', 'failure_type': 'sms_number_format'}], None)
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertIn("Wrong Number Format", invoice.followup_error)
        Case = self.env['invoice.followup.case']
        case = Case.search([('move_ids', 'in', invoice.ids), ('reason', '=', 'failure')])
        self.assertEqual(len(case), 1)

        # The provider's delivery report says the same later: nothing more.
        log.sms_notification_id.sms_tracker_ids._action_update_from_provider_error('not_delivered')
        self.assertEqual(Case.search_count([('move_ids', 'in', invoice.ids)]), 1)
        self.assertEqual(len(self._logs(invoice, states=('failed', 'sent', 'queued'))), 1)
        self._remind('2026-02-08')
        self.assertEqual(self._sms, [], "an invoice in exception is not texted again")

    def test_sms_fallback_when_the_email_bounced_or_is_missing(self):
        self.step_late_7.sms_fallback = True
        partner_ok = self.partner_a.copy({'email': 'customer.ok@example.com', 'phone': '+32 456 07 08 09'})
        self.partner_a.followup_bounced_email = 'customer.a@example.com'
        self.partner_b.email = False
        bounced = self._followup_invoice(partner=self.partner_a)
        no_email = self._followup_invoice(partner=self.partner_b)
        email_ok = self._followup_invoice(partner=partner_ok)
        with self.mock_mail_gateway():
            self._remind()

        self.assertEqual(sorted(sms['number'] for sms in self._sms),
                         sorted([self.partner_a._phone_format(), self.partner_b._phone_format()]))
        for invoice in (bounced, no_email):
            log = self._logs(invoice)
            self.assertEqual((log.step_id, log.channel), (self.step_late_7, 'sms'), "the e-mail step went by SMS")
            self.assertFalse(log.mail_id)
            self.assertEqual(invoice.followup_state, 'active', "no case: the cadence goes on")
        self.assertFalse(self.env['invoice.followup.case'].search([('move_ids', 'in', (bounced | no_email).ids)]))
        log = self._logs(email_ok)
        self.assertEqual((log.channel, log.email_to), ('email', 'customer.ok@example.com'), "e-mail only")
        self.assertNotIn(partner_ok._phone_format(), [sms['number'] for sms in self._sms])

        # The step becomes a call later: history keeps the channel each reminder went by.
        self.step_late_7.write({'channel': 'activity', 'sms_fallback': False})
        self.assertEqual((self._logs(bounced).channel, self._logs(email_ok).channel), ('sms', 'email'))

    def test_a_bounce_no_longer_silences_the_cadence(self):
        self.step_late_7.sms_fallback = True
        invoice = self._followup_invoice()
        with self.mock_mail_gateway():
            self._remind('2026-01-31')
        log = self._logs(invoice)
        self.assertEqual((log.step_id, log.channel), (self.step_due, 'email'))
        self.format_and_process(
            BOUNCE_DSN, self.partner_a.email, f'{self.alias_bounce}@{self.alias_domain}',
            subject='Undelivered Mail Returned to Sender', extra=log.message_id, target_model='account.move')
        self.assertEqual(log.state, 'bounced')
        case = self.env['invoice.followup.case'].search([('move_ids', 'in', invoice.ids)])
        self.assertEqual((case.reason, case.is_open), ('bounce', True), "a person finds a working address")
        self.assertEqual(invoice.followup_state, 'active', "the SMS fallback keeps the reminders going")

        self._remind('2026-02-07')
        self.assertEqual([sms['number'] for sms in self._sms], [self.partner_a._phone_format()])
        self.assertEqual(self._logs(invoice, states=('sent', 'bounced')).mapped(lambda log: (log.step_id, log.channel)),
                         [(self.step_due, 'email'), (self.step_late_7, 'sms')])

    def test_fallback_without_a_number_keeps_the_email_hold(self):
        self.step_late_7.sms_fallback = True
        self.partner_a.write({'followup_bounced_email': 'customer.a@example.com', 'phone': False})
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            line, = self.env['invoice.followup.planner']._preview_lines(self.company, self._d('2026-02-07'))
        self.assertEqual((line['move_id'], line['hold'], line['channel']), (invoice.id, 'bounce', 'email'))

    def test_no_phone_is_held_and_shown_in_the_preview(self):
        self.step_late_7.channel = 'sms'
        self.partner_a.phone = False
        sms_ok = self._followup_invoice(partner=self.partner_b)
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            preview = self.env['invoice.followup.preview'].create({'date': '2026-02-07'})
            lines = {line.move_id: line for line in preview.line_ids}
        self.assertEqual((lines[invoice].hold, lines[invoice].channel), ('no_phone', 'sms'))
        self.assertIn("phone", lines[invoice].note)
        self.assertEqual((lines[sms_ok].hold, lines[sms_ok].channel, lines[sms_ok].recipient),
                         (False, 'sms', self.partner_b._phone_format()))

        with self._warns():
            self._remind()
        self.assertEqual([sms['number'] for sms in self._sms], [self.partner_b._phone_format()])
        self.assertEqual(self._logs(invoice, states=('failed',)).step_id, self.step_late_7)
        self.assertEqual(invoice.followup_state, 'exception')
        self.assertTrue(self.env['invoice.followup.case'].search(
            [('move_ids', 'in', invoice.ids), ('reason', '=', 'no_phone')]))

    def test_number_removed_after_queueing_cancels_the_sms(self):
        self.step_late_7.channel = 'sms'
        invoice = self._followup_invoice()
        with self._at('2026-02-07'):
            logs = self.env['invoice.followup.queue']._apply(
                self.env['invoice.followup.planner']._plan(invoice, self._d('2026-02-07')), self._d('2026-02-07'))
            self.assertEqual(logs.channel, 'sms')
            self.partner_a.phone = False
            with self.mockSMSGateway():
                self.env['invoice.followup.delivery']._deliver_now(logs)
        self.assertEqual((logs.state, logs.note), ('cancel', "No usable mobile or phone number any more."))
        self.assertFalse(self.env['sms.sms'].search([('mail_message_id.res_id', '=', invoice.id)]))

    def test_test_mode_logs_the_sms_without_texting_the_customer(self):
        self.step_late_7.channel = 'sms'
        self.company.write({'followup_test_mode': True, 'followup_test_email': 'tester@company.example'})
        invoice = self._followup_invoice()
        self._remind()
        self.assertEqual(self._sms, [])
        log = self._logs(invoice)
        self.assertEqual((log.channel, log.is_test), ('sms', True))
        self.assertFalse(log.sms_notification_id)
        self.assertEqual(log.mail_message_id.message_type, 'sms', "the invoice's chatter shows what would be texted")
        self.assertFalse(self.env['sms.sms'].search([('mail_message_id', '=', log.mail_message_id.id)]))

    def test_a_step_that_texts_needs_an_sms_template(self):
        Step = self.env['invoice.followup.step']
        base = {'policy_id': self.policy.id, 'name': 'Text', 'offset_days': 30, 'tone': 'final'}
        self.assertEqual(Step.create({**base, 'channel': 'sms'}).sms_template_id,
                         self.env.ref('invoice_followup.sms_template_followup_final'))
        with self.assertRaisesRegex(ValidationError, "needs an SMS template"):
            Step.create({**base, 'channel': 'sms', 'sms_template_id': False})
        with self.assertRaisesRegex(ValidationError, "needs an SMS template"):
            Step.create({**base, 'mail_template_id': self.template_final.id, 'sms_fallback': True,
                         'sms_template_id': False})
