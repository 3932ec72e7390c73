import Foundation

exit(await Intake.run())
