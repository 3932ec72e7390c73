import StageRuntime

await runStage("notification", definition: Notification.definition)
