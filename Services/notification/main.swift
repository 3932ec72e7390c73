import StageRuntime

runStage("notification", definition: Notification.definition)
