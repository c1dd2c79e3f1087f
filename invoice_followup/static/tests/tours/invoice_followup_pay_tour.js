import { registry } from "@web/core/registry";

// The customer pays a reminded invoice with Odoo's demo provider and lands back on the invoice, paid.
// Started by tests/test_pay_tour.py on the reminder's "Pay now" link or on its self-service page.

function payWithDemoProvider(form) {
    return [
        {
            content: "Choose the demo provider",
            trigger: `${form} input[name='o_payment_radio'][data-payment-method-code='demo']`,
            run: "click",
        },
        {
            content: "Enter the (fake) card details",
            trigger: `${form} #customer_input`,
            run: "edit 4242424242424242",
        },
        {
            content: "The demo provider pays successfully",
            trigger: `${form} #simulated_payment_state`,
            run: "select done",
        },
        {
            content: "Pay",
            trigger: `${form} button[name='o_payment_submit_button']:enabled`,
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Odoo's payment status page confirms the payment, then goes back to the invoice",
            trigger: "div[name='o_payment_status']",
            expectUnloadPage: true,
        },
        {
            content: "Back on the invoice, which is paid",
            trigger: ".badge.text-bg-success:contains('Paid')",
        },
    ];
}

// The e-mail's "Pay now": the invoice's portal page with its payment dialog open.
registry.category("web_tour.tours").add("invoice_followup_pay_tour", {
    steps: () => payWithDemoProvider("#pay_with"),
});

// The e-mail's "Let us know": the self-service page, in the portal layout of the invoice's company, then its "Pay now".
registry.category("web_tour.tours").add("invoice_followup_respond_pay_tour", {
    steps: () => [
        {
            content: "The self-service page, in the portal layout, shows the amount due",
            trigger: ".o_portal_wrap .o_invoice_followup_respond:contains('Amount due')",
        },
        {
            content: "Pay now",
            trigger: ".o_invoice_followup_respond a.btn-primary[href$='/pay']",
            run: "click",
            expectUnloadPage: true,
        },
        ...payWithDemoProvider("#o_payment_form"),
    ],
});
