import StampedeInventory

// The numbers the scripts return (result codes and sentinels) or store for Swift to read, each named once.
// A script opens with the declarations of the constants it uses (see ``LuaConstant``), so its text holds no number
// whose meaning Swift must also know, and Swift decodes replies through the functions below.

extension RedisInventoryScripts {
    /// What the deduct script returns besides stock counts.
    public enum DeductReply {
        /// The whole reply, `{LEDGER_FULL}`, when the ledger stream holds its maximum of entries: nothing was
        /// applied.
        public static let ledgerFull = LuaConstant("LEDGER_FULL", -1)
        /// The replayed value of a deduct whose order id was seen before with the same payload.
        public static let replayed = LuaConstant("REPLAYED", 1)
        /// The replayed value of every other deduct.
        public static let notReplayed = LuaConstant("NOT_REPLAYED", 0)

        /// The constant of a result code, named after its wire name: `DEDUCT_ORDER_CONFLICT` = 1.
        public static func constant(_ code: DeductCode) -> LuaConstant {
            LuaConstant("DEDUCT_" + code.name.uppercased(), Int64(code.rawValue))
        }

        /// Every constant the deduct script declares: each result code, then the sentinels.
        public static let constants: [LuaConstant] =
            DeductCode.allCases.map(DeductReply.constant) + [ledgerFull, replayed, notReplayed]

        /// The result code a deduct's code value stands for; nil for a value the script never returns.
        public static func code(_ value: Int64) -> DeductCode? {
            UInt8(exactly: value).flatMap { DeductCode(rawValue: $0) }
        }
    }

    /// What the put script returns instead of a generation.
    public enum PutItemReply {
        /// The store holds its maximum of items; nothing was written.
        public static let tooManyItems = LuaConstant("TOO_MANY_ITEMS", -1)
        /// The ledger stream holds its maximum of entries; nothing was written.
        public static let ledgerFull = LuaConstant("LEDGER_FULL", -2)
        /// The generation of a SKU put for the first time (each later put adds one): a reply of it means created.
        public static let firstGeneration = LuaConstant("FIRST_GENERATION", 1)

        /// Every constant the put script declares.
        public static let constants: [LuaConstant] = [tooManyItems, ledgerFull, firstGeneration]
    }

    /// What the release script returns.
    public enum ReleaseReply {
        /// The first value of the reply, `{LEDGER_FULL, 0, 0, ''}`, when the ledger stream holds its maximum of
        /// entries: nothing was applied.
        public static let ledgerFull = LuaConstant("LEDGER_FULL", -1)

        /// The constant of a result code, named after its wire name: `RELEASE_ORDER_NOT_FOUND` = 2.
        public static func constant(_ code: ReleaseCode) -> LuaConstant {
            LuaConstant("RELEASE_" + code.name.uppercased(), Int64(code.rawValue))
        }

        /// Every constant the release script declares: each result code, then the sentinel.
        public static let constants: [LuaConstant] = ReleaseCode.allCases.map(ReleaseReply.constant) + [ledgerFull]

        /// The result code a release's code value stands for; nil for a value the script never returns.
        public static func code(_ value: Int64) -> ReleaseCode? {
            UInt8(exactly: value).flatMap { ReleaseCode(rawValue: $0) }
        }
    }

    /// What the confirm script returns.
    public enum ConfirmReply {
        /// The first value of the reply, `{LEDGER_FULL, 0, ''}`, when the ledger stream holds its maximum of
        /// entries: nothing was applied.
        public static let ledgerFull = LuaConstant("LEDGER_FULL", -1)

        /// The constant of a result code, named after its wire name: `CONFIRM_HOLD_EXPIRED` = 3.
        public static func constant(_ code: ConfirmCode) -> LuaConstant {
            LuaConstant("CONFIRM_" + code.name.uppercased(), Int64(code.rawValue))
        }

        /// Every constant the confirm script declares: each result code, then the sentinel.
        public static let constants: [LuaConstant] = ConfirmCode.allCases.map(ConfirmReply.constant) + [ledgerFull]

        /// The result code a confirm's code value stands for; nil for a value the script never returns.
        public static func code(_ value: Int64) -> ConfirmCode? {
            UInt8(exactly: value).flatMap { ConfirmCode(rawValue: $0) }
        }
    }

    /// What the expiry script returns instead of expired holds.
    public enum ExpireReply {
        /// The whole reply, `{LEDGER_FULL}`, when holds are due but the ledger stream holds its maximum of
        /// entries: nothing expired.
        public static let ledgerFull = LuaConstant("LEDGER_FULL", -1)

        public static let constants: [LuaConstant] = [ledgerFull]
    }

    /// What the repair script returns: one outcome (``RepairOutcome/storeAhead`` is decided before it runs).
    public enum RepairReply {
        public static let repaired = LuaConstant("REPAIRED", 0)
        public static let generationChanged = LuaConstant("GENERATION_CHANGED", 1)
        public static let invalidSold = LuaConstant("INVALID_SOLD", 2)
        public static let soldChanged = LuaConstant("SOLD_CHANGED", 3)

        /// Every constant the repair script declares.
        public static let constants: [LuaConstant] = [repaired, generationChanged, invalidSold, soldChanged]

        /// The outcome a reply stands for; nil for a value the script never returns.
        public static func outcome(_ value: Int64) -> RepairOutcome? {
            switch value {
            case repaired.value: .repaired
            case generationChanged.value: .generationChanged
            case invalidSold.value: .invalidSold
            case soldChanged.value: .soldChanged
            default: nil
            }
        }
    }

    /// The `released` field of an order record (`{p}order:<id>`), written by the deduct and release scripts and
    /// read by ``RedisInventoryStore/log(orderID:)``.
    public enum OrderReleasedField {
        /// The order's units were returned.
        public static let released = LuaConstant("ORDER_RELEASED", 1)
        /// The order's units are still sold.
        public static let notReleased = LuaConstant("ORDER_NOT_RELEASED", 0)

        /// Both values, declared by every script that reads or writes the field.
        public static let constants: [LuaConstant] = [released, notReleased]
    }
}
