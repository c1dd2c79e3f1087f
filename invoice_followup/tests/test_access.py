# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tests.form import convert_read_to_form
from odoo.tools import mute_logger

from .common import InvoiceFollowupCommon

ERROR_TEXT = "550 5.1.1 mailbox unavailable (smtp.internal.example)"


class AccessCommon(InvoiceFollowupCommon):
    """A reminded invoice in exception, its customer, a sale order and a billed project, and the people who could
    open them before the add-on was installed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def user(login, groups):
            return new_test_user(cls.env, login=login, groups=groups, company_id=cls.company.id)

        cls.salesman = user('access_salesman', 'base.group_user,sales_team.group_sale_salesman_all_leads')
        cls.project_user = user('access_project', 'base.group_user,project.group_project_user')
        cls.auditor = user('access_auditor', 'base.group_user,account.group_account_readonly')
        cls.billing_user = user(
            'access_billing', 'base.group_user,base.group_partner_manager,account.group_account_invoice')
        cls.accountant = user('access_manager', 'base.group_user,account.group_account_manager')
        cls.contact_manager = user('access_contacts', 'base.group_user,base.group_partner_manager')
        cls.portal_user = new_test_user(cls.env, login='access_portal', groups='base.group_portal')
        cls.portal_user.partner_id.email = 'portal.customer@example.com'

        cls.invoice = cls._followup_invoice(partner=cls.portal_user.partner_id)
        cls.log = cls.env['invoice.followup.log'].sudo().create({
            'move_id': cls.invoice.id, 'step_id': cls.step_before.id, 'cycle_key': '2026-01-31',
            'date': '2026-01-24', 'state': 'failed', 'note': ERROR_TEXT, 'currency_id': cls.invoice.currency_id.id,
        })
        cls.invoice.sudo().followup_error = ERROR_TEXT
        cls.customer = cls.invoice.commercial_partner_id

        cls.sale_order = cls.env['sale.order'].sudo().create({
            'partner_id': cls.partner_a.id,
            'order_line': [Command.create({'product_id': cls.product_a.id, 'product_uom_qty': 1.0})],
        })
        cls.sale_order.action_confirm()
        cls.sale_order = cls.sale_order.sudo(False)

        cls.project = cls.env['project.project'].sudo().create({
            'name': 'Billed project',
            'privacy_visibility': 'employees',
            'allow_milestones': True,
            'company_id': cls.company.id,
            'billing_partner_id': cls.partner_a.id,
            'billing_amount': 1000.0,
            'billing_product_id': cls.product_a.id,
            'milestone_ids': [Command.create({'name': 'Delivery', 'invoice_percentage': 100.0})],
        }).sudo(False)


class WebClientForm(Form):
    """A ``Form`` that reads the view's fields but ``skipped`` ones: fields Odoo itself refuses to the user."""

    def __init__(self, record, skipped=()):
        object.__setattr__(self, '_skipped', frozenset(skipped))
        super().__init__(record)

    def _init_from_record(self):
        spec = {fname: spec for fname, spec in self._view['fields_spec'].items() if fname not in self._skipped}
        [values] = self._record.web_read(spec)
        self._env.flush_all()
        self._env.clear()
        self._values.update(convert_read_to_form(values, self._view['fields']))


@tagged('post_install', '-at_install')
class TestAccessForms(AccessCommon, HttpCase):
    """Everyone who could open an invoice, a customer, a sale order or a project before still can; follow-up data
    shows only to those whose groups allow it."""

    def _form(self, record, user, skipped=()):
        """Open the record's form as the web client does for ``user``: get_views, then web_read of its fields."""
        form = WebClientForm(record.with_user(user), skipped=skipped)
        return form, form._view['fields_spec']

    def test_salesman_opens_invoice_customer_and_sale_order(self):
        # Odoo 19 itself refuses the payments' smart button to a salesman (account.payment is for accounting users),
        # with or without this add-on: the rest of the form is theirs.
        form, spec = self._form(self.invoice, self.salesman, skipped={'payment_count'})
        self.assertEqual(form.name, self.invoice.name)
        for fname in ('followup_log_ids', 'followup_error', 'followup_policy_id', 'followup_case_count'):
            self.assertNotIn(fname, spec, f"{fname} is billing data")
        list_view = self.invoice.with_user(self.salesman).get_views([(False, 'list')])['views']['list']
        self.assertNotIn('followup_last_step_id', list_view['arch'])
        self._form(self.customer, self.salesman)
        form, _spec = self._form(self.sale_order, self.salesman)
        self.assertEqual(form.name, self.sale_order.name)

    def test_project_user_opens_project_milestone_and_customer(self):
        form, spec = self._form(self.project, self.project_user)
        self.assertEqual(form.name, 'Billed project')
        self.assertNotIn('billing_amount', spec)
        _form, spec = self._form(self.project.milestone_ids, self.project_user)
        self.assertNotIn('invoice_percentage', spec)
        self._form(self.customer, self.project_user)

    def test_auditor_sees_followup_data_read_only(self):
        form, spec = self._form(self.invoice, self.auditor)
        self.assertIn('followup_log_ids', spec)
        self.assertEqual(form.followup_log_ids._records[0]['id'], self.log.id)
        self.assertEqual(form.followup_error, ERROR_TEXT)
        self._form(self.customer, self.auditor)

    def test_billing_user_sees_followup_data(self):
        form, spec = self._form(self.invoice, self.billing_user)
        self.assertIn('followup_log_ids', spec)
        self.assertEqual(form.followup_error, ERROR_TEXT)
        _form, spec = self._form(self.customer, self.billing_user)
        for fname in ('followup_excluded', 'followup_strategic', 'followup_policy_id', 'followup_log_count'):
            self.assertIn(fname, spec)

    def test_rpc_read_of_the_followup_fields_a_user_may_see(self):
        """RPC clients and exports read the fields ``fields_get`` lists: those the user may see all read fine."""
        for record, users in ((self.invoice, (self.salesman, self.portal_user)),
                              (self.customer, (self.salesman, self.project_user, self.contact_manager))):
            for user in users:
                with self.subTest(model=record._name, user=user.login):
                    as_user = record.with_user(user)
                    fnames = [fname for fname in as_user.fields_get(attributes=['type'])
                              if fname.startswith('followup_')]
                    self.assertNotIn('followup_log_count', fnames)
                    self.assertNotIn('followup_error', fnames)
                    values = as_user.read(['display_name', *fnames])[0]
                    self.assertEqual(values['display_name'], record.display_name)

    def test_portal_user_opens_the_invoice_on_the_portal(self):
        self.authenticate('access_portal', 'access_portal')
        response = self.url_open(f'/my/invoices/{self.invoice.id}')
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text)
        self.assertNotIn('mailbox unavailable', response.text)


@tagged('post_install', '-at_install')
class TestAccessRights(AccessCommon):
    """Who may switch a customer's reminders off, read the internal error text, and write the reminder logs."""

    def test_contact_manager_cannot_switch_reminders_off(self):
        other_policy = self.policy.copy()
        partner = self.partner_a.with_user(self.contact_manager)
        for vals in ({'followup_excluded': True}, {'followup_strategic': True},
                     {'followup_policy_id': other_policy.id}, {'followup_bounced_email': 'x@example.com'}):
            with self.subTest(vals=vals), self.assertRaises(AccessError), mute_logger('odoo.models'):
                partner.write(vals)
        with self.assertRaises(AccessError), mute_logger('odoo.models'):
            self.env['res.partner'].with_user(self.contact_manager).create(
                {'name': 'Excluded from the start', 'followup_excluded': True})
        self.assertFalse(self.partner_a.followup_excluded)
        # Billing users switch reminders off; the rest of the contact stays the contact manager's, duplicating and
        # a new address (which lifts a bounce) included.
        invoice = self._followup_invoice()
        self.assertEqual(invoice.followup_state, 'active')
        self.partner_a.with_user(self.billing_user).write({'followup_excluded': True, 'followup_strategic': True})
        self.assertEqual(invoice.followup_state, 'paused')
        self.partner_a.sudo().followup_bounced_email = self.partner_a.email
        partner.write({'phone': '+32 2 555 00 00', 'email': 'new.address@example.com'})
        self.assertFalse(self.partner_a.followup_bounced_email)
        self.assertFalse(partner.copy().sudo().followup_excluded, "a duplicate is a new customer, reminded")

    def test_error_text_is_for_billing_users(self):
        for user in (self.salesman, self.portal_user):
            invoice = self.invoice.with_user(user)
            with self.assertRaises(AccessError), mute_logger('odoo.models'):
                invoice.read(['followup_error'])
            with self.assertRaises(AccessError), mute_logger('odoo.models'):
                invoice.web_read({'followup_error': {}})
            with self.assertRaises(AccessError), mute_logger('odoo.models'):
                invoice.search_read([('followup_error', 'ilike', 'mailbox')], ['name'])
        for user in (self.billing_user, self.auditor):
            [values] = self.invoice.with_user(user).web_read({'followup_error': {}})
            self.assertEqual(values['followup_error'], ERROR_TEXT)

    def test_error_text_stays_off_the_invoice_chatter(self):
        """The reason of a failure is on the invoice's Follow-up tab and its case, not in the chatter that every
        internal user (and the e-mail digest of followers) can read."""
        self.invoice.sudo().followup_error = False
        with self._at('2026-01-24'), self._warns():
            self.invoice._followup_mark_failed(self.step_before, self._d('2026-01-31'), self._d('2026-01-24'),
                                               UserError(ERROR_TEXT))
        self.assertEqual(self.invoice.followup_error, ERROR_TEXT)
        self.assertTrue(self.invoice.message_ids.filtered(lambda message: 'failed' in (message.body or '')))
        self.assertFalse(self.invoice.message_ids.filtered(lambda message: 'mailbox' in (message.body or '')))

    def test_logs_are_written_by_the_engine_only(self):
        vals = {'move_id': self.invoice.id, 'step_id': self.step_due.id, 'cycle_key': '2026-01-31',
                'state': 'sent', 'currency_id': self.invoice.currency_id.id}
        for user in (self.billing_user, self.accountant):
            Log = self.env['invoice.followup.log'].with_user(user)
            self.assertEqual(Log.search([('move_id', '=', self.invoice.id)]), self.log, "they read the logs")
            with self.subTest(user=user.login), mute_logger('odoo.addons.base.models.ir_model'):
                with self.assertRaises(AccessError):
                    Log.create(vals)
                with self.assertRaises(AccessError):
                    self.log.with_user(user).write({'state': 'sent'})
                with self.assertRaises(AccessError):
                    self.log.with_user(user).unlink()
        self.assertEqual(self.log.state, 'failed')

    def test_billing_user_still_runs_the_engine(self):
        """Sending now and resuming, as a billing user, still log the reminder (the engine writes its logs)."""
        invoice = self.invoice.with_user(self.billing_user)
        with self._at('2026-01-24'):
            invoice.action_followup_resume()
            invoice.action_followup_send_now()
        sent = self._logs(self.invoice)
        self.assertEqual(sent.step_id, self.step_before)
        self.assertFalse(self.invoice.followup_error)
        # The mail hooks report on the log whoever's mail queue run or incoming mail brings the news.
        with self._warns():
            sent.with_user(self.billing_user)._followup_update_delivery('mail_smtp', ERROR_TEXT)
        self.assertEqual(sent.state, 'failed')
        self.assertIn(ERROR_TEXT, self.invoice.followup_error)
        sent.with_user(self.salesman)._followup_mark_bounced(self.customer.email)
        self.assertEqual(sent.state, 'bounced')
        self.assertEqual(self.customer.followup_bounced_email, self.customer.email)


@tagged('post_install', '-at_install')
class TestAccessCompanies(AccessCommon):
    """A company's templates and policies never drive another company's reminders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name='Company B')['company']
        cls.policy_b = cls.env['invoice.followup.policy'].create({
            'name': 'Company B cadence', 'company_id': cls.company_b.id,
            'step_ids': [Command.create({'name': 'On the day', 'mail_template_id': cls.template_polite.id})],
        })

    def test_step_template_of_another_company(self):
        template_b = self.template_polite.copy({'name': 'Polite, company B'})
        template_b.company_id = self.company_b
        self.policy_b.step_ids.mail_template_id = template_b
        policy_a = self.policy.copy({'company_id': self.company.id})
        with self.assertRaises(UserError):
            policy_a.step_ids[0].mail_template_id = template_b
        with self.assertRaises(UserError):
            self.env['invoice.followup.policy'].create({
                'name': 'Shared', 'step_ids': [Command.create({'name': 'B', 'mail_template_id': template_b.id})],
            })
        with self.assertRaises(UserError):
            self.policy_b.company_id = self.company
        with self.assertRaises(UserError):
            self.env['invoice.followup.recurring'].create({
                'partner_id': self.partner_a.id, 'name': 'Monthly', 'company_id': self.company.id,
                'auto_send': True, 'mail_template_id': template_b.id,
            })
        policy_a.step_ids[0].mail_template_id = self.template_polite  # shared templates fit every company
        self.assertEqual(policy_a.step_ids[0].mail_template_id, self.template_polite)

    def test_policy_of_another_company(self):
        with self.assertRaises(UserError):
            self.company.followup_policy_id = self.policy_b
        with self.assertRaises(UserError):
            self.partner_a.with_company(self.company).followup_policy_id = self.policy_b
        with self.assertRaises(UserError):
            self.invoice.followup_policy_id = self.policy_b
        self.partner_a.with_company(self.company_b).followup_policy_id = self.policy_b
        self.assertEqual(self.partner_a.with_company(self.company_b).followup_policy_id, self.policy_b)
        self.assertFalse(self.partner_a.with_company(self.company).followup_policy_id)

    def test_policy_moves_to_another_company_only_when_unused(self):
        policy = self.policy.copy({'company_id': self.company.id})
        self.company.followup_policy_id = policy
        with self.assertRaises(UserError):
            policy.company_id = self.company_b
        self.company.followup_policy_id = self.policy
        self.partner_a.with_company(self.company).followup_policy_id = policy
        with self.assertRaises(UserError):
            policy.company_id = self.company_b
        self.partner_a.with_company(self.company).followup_policy_id = False
        policy.company_id = self.company_b
        self.assertEqual(policy.step_ids.company_id, self.company_b)
