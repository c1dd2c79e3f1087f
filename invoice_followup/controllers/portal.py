# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import content_disposition, request


class InvoiceFollowupPortal(http.Controller):
    """The page every reminder links to: the customer sees what is due and can pay, dispute the invoice,
    promise a payment date or ask for a payment plan.

    The token is signed (HMAC with the database secret), scoped to this page and to one invoice, and expires.
    GET only shows; POST acts, with CSRF, and posting twice changes nothing more. Every bad token (tampered,
    expired, another scope, another invoice, unknown invoice) gets the very same 404. The page's links (the invoice,
    the way to pay) go through the same token: the invoice's permanent portal access token is never handed out.
    """

    def _get_move(self, token):
        move = request.env['account.move']._followup_from_respond_token(token)
        if not move:
            raise request.not_found()
        return move

    def _render(self, move, token, status=200, **values):
        return request.render('invoice_followup.respond_page', {
            **move._followup_respond_page_values(token),
            'token': token,
            **values,
        }, status=status)

    @http.route('/invoice_followup/respond/<string:token>', type='http', auth='public', methods=['GET'],
                website=False, sitemap=False)
    def respond_page(self, token, **kwargs):
        move = self._get_move(token)
        return self._render(move, token=token)

    @http.route('/invoice_followup/respond/<string:token>/invoice', type='http', auth='public', methods=['GET'],
                sitemap=False)
    def respond_invoice(self, token, **kwargs):
        """The invoice's PDF."""
        document = self._get_move(token)._followup_respond_document()
        return request.make_response(document['content'], [
            ('Content-Type', 'application/pdf'),
            ('Content-Length', len(document['content'])),
            ('Content-Disposition', content_disposition(document['filename'], disposition_type='inline')),
        ])

    @http.route('/invoice_followup/respond/<string:token>/pay', type='http', auth='public', methods=['GET'],
                sitemap=False)
    def respond_pay(self, token, **kwargs):
        """To Odoo's payment page for what is due now; back to this page when nothing is."""
        move = self._get_move(token)
        url = move._followup_respond_pay_url() or f'/invoice_followup/respond/{token}'
        return request.redirect(url, code=303)

    @http.route('/invoice_followup/respond/<string:token>/<any(dispute,promise,plan):action>', type='http',
                auth='public', methods=['POST'], sitemap=False)
    def respond_post(self, token, action, **post):
        move = self._get_move(token)
        result = move._followup_customer_response(action, post)
        return self._render(
            move, token=token, status=400 if result.get('error') else 200,
            error=result.get('error'), confirmation=result.get('confirmation'), form=action, post=post)
