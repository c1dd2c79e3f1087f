# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged


@tagged('post_install', '-at_install')
class TestCaseTour(HttpCase):
    """The Collections board in a browser: a case dragged to another column keeps its new stage."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.ref('base.user_admin').company_id
        partner = cls.env['res.partner'].sudo().create({'name': 'Tour Customer'})
        cls.stage_new = cls.env.ref('invoice_followup.case_stage_new')
        cls.stage_in_progress = cls.env.ref('invoice_followup.case_stage_in_progress')
        cls.case = cls.env['invoice.followup.case'].sudo().create({
            'company_id': company.id,
            'partner_id': partner.id,
            'reason': 'dispute',
            'stage_id': cls.stage_new.id,
        })

    def test_drag_case_to_in_progress(self):
        self.assertEqual(self.case.stage_id, self.stage_new)
        self.start_tour('/odoo/collections', 'invoice_followup_case_tour', login='admin')
        self.case.invalidate_recordset()
        self.assertEqual(self.case.stage_id, self.stage_in_progress)
        self.assertTrue(self.case.is_open, "In progress is not a resolved stage")
