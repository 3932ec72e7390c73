import StageRuntime

if CommandLine.arguments.dropFirst().first == "stats" { SupplierVerification.printStats(SettingsSource()) }
await runStage("supplier-verification", definition: SupplierVerification.definition)
