import { registry } from "@web/core/registry";

// The customer follows the "Pay now" link of a reminder (the invoice's portal page with its payment dialog open),
// pays with Odoo's demo provider and lands back on the invoice, paid. Started on the link by tests/test_pay_tour.py.
registry.category("web_tour.tours").add("invoice_followup_pay_tour", {
    steps: () => [
        {
            content: "The pay link opens the payment dialog; choose the demo provider",
            trigger: "#pay_with input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            content: "Enter the (fake) card details",
            trigger: "#pay_with #customer_input",
            run: "edit 4242424242424242",
        },
        {
            content: "The demo provider pays successfully",
            trigger: "#pay_with #simulated_payment_state",
            run: "select done",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name='o_payment_submit_button']:enabled",
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
    ],
});
