// The store's configuration names the journal's durability modes. Re-exporting that one type lets code that
// configures an inventory store (the app, the CLI, tests) keep importing StampedeInventory alone, as Hummingbird
// re-exports the HTTPTypes it names in its own API.
@_exported import enum StampedeJournal.Durability
