import Foundation
import StageRuntime

finishProcess(await Intake.run())
