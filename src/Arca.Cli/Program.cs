using Arca.Cli;

return await CliApp.RunAsync(args);
