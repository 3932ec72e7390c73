import StageRuntime

runStage("supplier-verification", definition: SupplierVerification.definition)
