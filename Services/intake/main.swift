import StageRuntime

runStage("intake", definition: Intake.definition)
