"""The Temporal contract: every payload, handler name, error type and activity interface that
workflows share with the activities, the API and ops. Imports only the domain (and temporalio), so
the workflow sandbox loads it cheaply and no layer above has to import a workflow to talk to one."""
