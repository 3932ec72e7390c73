import StageRuntime

await runStage("notification", definition: NotificationStage.definition)
