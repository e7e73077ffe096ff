// Each fixture owns its host and SQLite file, so fixtures may run side by side.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
