import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Reading JSON request bodies: the content type, the size limit, and a 400 naming the field at fault.
public enum JSONBody {
    /// Reads and decodes a JSON body, answering 415 for another content type and 400 naming the bad field.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        context: some RequestContext
    ) async throws -> T {
        try decode(T.self, from: try await collect(request, context: context))
    }

    /// Checks the content type and reads the whole body, up to the context's limit.
    public static func collect(_ request: Request, context: some RequestContext) async throws -> ByteBuffer {
        if let problem = APIError.unsupportedMediaType(request.headers[.contentType]) { throw problem }
        return try await request.body.collect(upTo: context.maxUploadSize)
    }

    /// Decodes a collected JSON body, answering 400 naming the bad field.
    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: buffer)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let field = nonIntegerNumberField(in: buffer)
            {
                // Foundation reports a number that does not fit an integer field as "not valid JSON".
                throw APIError.invalidRequest(field: field, "field '\(field)' must be an integer in range")
            }
            throw APIError.invalidRequest(field: error.fieldName, error.explanation)
        }
    }

    /// The path of the first number that is not a 64-bit integer, when the body is valid JSON.
    /// Every number in Stampede's API is an integer.
    static func nonIntegerNumberField(in buffer: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) else { return nil }
        func search(_ value: Any, path: String) -> String? {
            if let dictionary = value as? [String: Any] {
                for key in dictionary.keys.sorted() {
                    if let found = search(dictionary[key]!, path: path.isEmpty ? key : "\(path).\(key)") {
                        return found
                    }
                }
            } else if let array = value as? [Any] {
                for (index, element) in array.enumerated() {
                    if let found = search(element, path: "\(path)[\(index)]") { return found }
                }
            } else if !(value is Bool), let number = value as? NSNumber {
                let double = number.doubleValue
                if double != double.rounded() || abs(double) >= 9.2e18 { return path }
            }
            return nil
        }
        return search(object, path: "")
    }
}

extension DecodingError {
    /// The snake_case path of the field at fault, e.g. `items[2].amount`; nil for malformed JSON.
    public var fieldName: String? {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            return nil
        }
        guard !path.isEmpty else { return nil }
        var name = ""
        for key in path {
            if let index = key.intValue {
                name += "[\(index)]"
            } else {
                name += name.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return name
    }

    public var explanation: String {
        switch self {
        case .keyNotFound: "missing required field '\(fieldName ?? "?")'"
        case .valueNotFound: "field '\(fieldName ?? "?")' must not be null"
        case .typeMismatch(let type, _):
            "field '\(fieldName ?? "?")' has the wrong type (expected \(Self.describe(type)))"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty
                ? "request body is not valid JSON"
                : "field '\(fieldName ?? "?")' is out of range or malformed"
        @unknown default: "request body could not be decoded"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int64.Type, is Int.Type: "an integer"
        case is String.Type: "a string"
        case is any Collection.Type: "an array"
        default: "an object"
        }
    }
}
