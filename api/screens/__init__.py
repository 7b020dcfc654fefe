"""The staff application's pages, one module per kind of work (warehouse, counter, support, admin,
charts, accounts), server-rendered with Jinja templates under api/templates; api.screens.pages holds
what they share: who is signed in, the role check, the page frame, flash messages, the form token."""
