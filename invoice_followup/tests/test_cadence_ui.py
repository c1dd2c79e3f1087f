# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common import InvoiceFollowupCommon


@tagged('post_install', '-at_install')
class TestCadenceUi(InvoiceFollowupCommon):
    """Manual controls, settings and shipped data: clear errors in the user's words."""

    def test_shipped_policies(self):
        standard = self.env.ref('invoice_followup.policy_standard')
        self.assertEqual(standard.step_ids.mapped('offset_days'), [-7, 0, 7, 14])
        three = self.env.ref('invoice_followup.policy_three_step')
        self.assertEqual(three.step_ids.mapped('date_reference'), ['invoice', 'due', 'due'])
        self.assertEqual(three.step_ids.mapped('offset_days'), [0, 7, 21])
        nudge = self.env.ref('invoice_followup.policy_early_nudge')
        self.assertEqual(nudge.step_ids.mapped('offset_days'), [-3, 0, 7])
        for policy in standard | three | nudge:
            tones = policy.step_ids.mapped('tone')
            order = ['friendly', 'polite', 'firm', 'final']
            self.assertEqual(tones, sorted(tones, key=order.index), f"{policy.name}: the tone escalates")
            self.assertTrue(all(step.mail_template_id for step in policy.step_ids),
                            f"{policy.name}: every step has its template")

    def test_every_template_renders(self):
        currency = self.setup_other_currency('EUR', rates=[('2025-01-01', 2.0)])
        invoice = self._followup_invoice(currency_id=currency.id)
        templates = self.env['mail.template'].search([('id', 'in', [
            self.env.ref(f'invoice_followup.mail_template_followup_{name}').id
            for name in ('invoice_notice', 'friendly', 'polite', 'firm', 'final')])])
        for template in templates:
            rendered = template._generate_template(invoice.ids, ('subject', 'body_html'))[invoice.id]
            self.assertIn(invoice.name, rendered['subject'] + rendered['body_html'], template.name)
            self.assertIn('portal_pay', rendered['body_html'], f"{template.name} has the pay link")
            self.assertIn('at today', rendered['body_html'], f"{template.name} shows the company-currency amount")

    def test_pause_wizard_validation(self):
        invoice = self._followup_invoice()
        with self._at('2026-01-10'):
            wizard = self.env['account.move.followup.pause'].with_context(
                active_model='account.move', active_ids=invoice.ids).create({'date_until': '2026-01-05'})
            with self.assertRaisesRegex(UserError, "after today"):
                wizard.action_pause()
        self._register_payment(invoice)
        with self._at('2026-01-10'):
            wizard.date_until = '2026-02-01'
            with self.assertRaisesRegex(UserError, "being reminded"):
                wizard.action_pause()

    def test_send_now_refuses_what_it_cannot_do(self):
        invoice = self._followup_invoice()
        self._register_payment(invoice)
        with self.assertRaisesRegex(UserError, "nothing to remind"):
            invoice.action_followup_send_now()
        paused = self._followup_invoice()
        paused.action_followup_exclude()
        with self.assertRaisesRegex(UserError, "resume them first"):
            paused.action_followup_send_now()

    def test_step_and_settings_validation(self):
        with self.assertRaisesRegex(ValidationError, "needs an e-mail template"):
            self.env['invoice.followup.step'].create({'policy_id': self.policy.id, 'name': 'Nothing'})
        with self.assertRaisesRegex(ValidationError, "ten years"):
            self.step_due.offset_days = 5000
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.policy.min_amount = -5
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.company.followup_min_gap_days = -1
        self.company.invalidate_recordset()
        with self.assertRaisesRegex(ValidationError, "valid e-mail address"):
            self.company.write({'followup_test_mode': True, 'followup_test_email': 'nope'})

    def test_settings_page(self):
        with Form(self.env['res.config.settings']) as settings:
            settings.followup_business_days = True
            settings.followup_min_gap_days = 2
        self.assertTrue(self.company.followup_business_days)
        self.assertEqual(self.company.followup_min_gap_days, 2)

    def test_policy_copy_keeps_steps(self):
        copy = self.policy.copy()
        self.assertEqual(copy.name, 'Test cadence (copy)')
        self.assertEqual(copy.step_ids.mapped('offset_days'), [-7, 0, 7, 14])
        self.assertNotEqual(copy.step_ids, self.policy.step_ids)

    def test_invoice_form_shows_reminders(self):
        invoice = self._followup_invoice()
        self.env['invoice.followup.log'].sudo().create({
            'move_id': invoice.id, 'step_id': self.step_due.id, 'cycle_key': '2026-01-31',
            'currency_id': invoice.currency_id.id,
        })
        self.assertEqual(invoice.followup_log_count, 1)
        action = invoice.action_view_followup_logs()
        self.assertEqual(self.env['invoice.followup.log'].search(action['domain']), invoice.followup_log_ids)
        self.assertEqual(self.partner_a.followup_log_count, 1)
        invoice_form = Form(invoice)
        self.assertEqual(len(invoice_form.followup_log_ids), 1, "the Follow-up page lists the reminder")
        self.policy.step_ids = [Command.create({'name': 'Call', 'offset_days': 40, 'channel': 'activity'})]
        call = self.policy.step_ids.filtered(lambda step: step.channel == 'activity')
        self.assertEqual(call.activity_type_id, self.env.ref('mail.mail_activity_data_call'),
                         "a call step needs no template and gets the call activity type by default")
