# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from .test_milestone import MilestoneBillingCommon


@tagged('post_install', '-at_install')
class TestMilestoneSecurity(MilestoneBillingCommon):
    """Who may configure a billing plan, who may reach a milestone, and companies kept apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.project_user, cls.billing_user = cls._project_and_billing_users('milestone')

    def test_project_user_reaches_but_cannot_touch_the_plan(self):
        project = self._project(1000.0, [50, 50])
        as_pm = project.with_user(self.project_user)
        with self.assertRaises(AccessError):
            as_pm.billing_amount = 5000.0
        with self.assertRaises(AccessError):
            as_pm.read(['billing_amount'])
        with self.assertRaises(AccessError):
            as_pm.milestone_ids[0].invoice_percentage = 100.0
        with self.assertRaises(AccessError):
            self.env['project.milestone.billing.plan'].with_user(self.project_user).create(
                {'project_id': project.id, 'preset': 'thirds'})
        milestone = as_pm.milestone_ids.sorted('sequence')[0]
        milestone.is_reached = True  # the delivery is the project's call; the invoice is billing's
        self.assertTrue(milestone.is_reached)
        self.assertFalse(self._invoices(project.milestone_ids), "a project user makes no invoice appear")
        project.milestone_ids.sorted('sequence')[0].with_user(self.billing_user).action_billing_create_invoice()
        invoice = project.milestone_ids.sorted('sequence')[0].invoice_id
        self.assertEqual(invoice.amount_untaxed, 500.0)
        with self.assertRaises(AccessError):
            invoice.with_user(self.project_user).read(['amount_total'])

    def test_billing_user_configures_the_plan(self):
        project = self._project(1000.0, [100])
        as_billing = project.with_user(self.billing_user)
        as_billing.billing_amount = 1200.0
        self.env['project.milestone.billing.plan'].with_user(self.billing_user).create(
            {'project_id': project.id, 'preset': 'half'}).action_apply()
        self.assertEqual(project.milestone_ids.sorted('sequence').mapped('invoice_percentage'), [50.0, 50.0])
        as_billing.milestone_ids.sorted('sequence')[0].is_reached = True
        self.assertEqual(as_billing.billing_invoiced_amount, 600.0)
        self.assertEqual(as_billing.billing_invoice_count, 1)

    def test_invoice_in_the_project_company(self):
        other = self.setup_other_company(name='Milestone Co B')
        company_b = other['company']
        self.env.user.company_ids |= company_b
        product_b = self.env['product.product'].create({
            'name': 'B delivery', 'type': 'service', 'company_id': company_b.id, 'taxes_id': [Command.clear()]})
        project_b = self.env['project.project'].with_company(company_b).create({
            'name': 'Project of B',
            'allow_milestones': True,
            'company_id': company_b.id,
            'billing_partner_id': self.partner_a.id,
            'billing_amount': 800.0,
            'billing_currency_id': company_b.currency_id.id,
            'billing_product_id': product_b.id,
            'billing_auto_post': True,
            'milestone_ids': [Command.create({'name': 'All', 'invoice_percentage': 100.0})],
        })
        # Reached while the user works in company A: the invoice still belongs to B, in B's journal.
        project_b.with_company(self.company).milestone_ids.is_reached = True
        invoice = project_b.milestone_ids.invoice_id
        self.assertEqual(invoice.company_id, company_b)
        self.assertEqual(invoice.journal_id.company_id, company_b)
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.amount_untaxed, 800.0)
        user_a = new_test_user(
            self.env, login='milestone_billing_a', company_id=self.company.id,
            groups='base.group_user,project.group_project_user,account.group_account_invoice')
        with self.assertRaises(AccessError):
            invoice.with_user(user_a).read(['amount_total'])
        self.assertFalse(self.env['account.move'].with_user(user_a).search([('milestone_id', '!=', False)]))

    def test_plan_cannot_mix_companies(self):
        other = self.setup_other_company(name='Milestone Co C')
        product_c = self.env['product.product'].create({
            'name': 'C delivery', 'type': 'service', 'company_id': other['company'].id})
        project = self._project(1000.0, [100])
        with self._assert_refused(UserError, "company inconsistencies"):
            project.billing_product_id = product_c

    def test_project_form_per_user(self):
        project = self._project(1000.0, [50, 50])
        with Form(project.with_user(self.billing_user)) as form:
            form.billing_amount = 3000.0
            form.billing_auto_post = True
            form.billing_auto_send = True
            form.milestone_auto_reach = True
        self.assertEqual(project.billing_amount, 3000.0)
        self.assertEqual(project.milestone_ids.mapped('invoice_amount'), [1500.0, 1500.0])
        with Form(project.with_user(self.project_user)) as form:  # no billing fields for them, and no error
            self.assertNotIn('billing_amount', form._view['fields'])
            form.name = 'Renamed by the project manager'
        arch = self.env['project.milestone'].with_user(self.project_user).get_views([(False, 'list')])
        self.assertNotIn('invoice_percentage', arch['models']['project.milestone']['fields'])
        arch = self.env['project.milestone'].with_user(self.billing_user).get_views([(False, 'list')])
        self.assertIn('invoice_id', arch['models']['project.milestone']['fields'])
