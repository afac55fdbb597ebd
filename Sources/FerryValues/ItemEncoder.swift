import FerryIO

/// Writes items as JSON in either spelling (docs/item-json.md). Output is compact, one
/// item per call, with no trailing newline.
public enum ItemEncoder {
    /// `{"Item":{...}}`: the line format of DynamoDB's export to S3.
    public static func writeTyped(_ item: Item, into out: ByteBuffer) {
        out.append("{\"Item\":")
        writeTypedMap(item, into: out)
        out.append(UInt8(ascii: "}"))
    }

    /// The bare typed map `{"a":{"S":"x"}}`.
    public static func writeTypedMap(_ map: AttributeMap, into out: ByteBuffer) {
        writeMap(map, into: out) { writeTypedValue($0, into: out) }
    }

    /// `{"name":<value>,...}` with each value written by `value`.
    static func writeMap(_ map: AttributeMap, into out: ByteBuffer, value: (AttributeValue) -> Void) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, inner) in map.entries {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(name, into: out)
            out.append(UInt8(ascii: ":"))
            value(inner)
        }
        out.append(UInt8(ascii: "}"))
    }

    public static func writeTypedValue(_ value: AttributeValue, into out: ByteBuffer) {
        switch value {
        case let .s(s):
            out.append("{\"S\":")
            JSONWriter.writeString(s, into: out)
        case let .n(n):
            out.append("{\"N\":\"")
            n.write(into: out)
            out.append(UInt8(ascii: "\""))
        case let .b(b):
            out.append("{\"B\":")
            writeBase64(b, into: out)
        case let .bool(flag):
            out.append(flag ? "{\"BOOL\":true" : "{\"BOOL\":false")
        case .null:
            out.append("{\"NULL\":true")
        case let .m(map):
            out.append("{\"M\":")
            writeTypedMap(map, into: out)
        case let .l(list):
            out.append("{\"L\":[")
            for (i, inner) in list.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeTypedValue(inner, into: out)
            }
            out.append(UInt8(ascii: "]"))
        case let .ss(set):
            out.append("{\"SS\":[")
            for (i, s) in set.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(s, into: out)
            }
            out.append(UInt8(ascii: "]"))
        case let .ns(set):
            out.append("{\"NS\":[")
            for (i, n) in set.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                n.write(into: out)
                out.append(UInt8(ascii: "\""))
            }
            out.append(UInt8(ascii: "]"))
        case let .bs(set):
            out.append("{\"BS\":[")
            for (i, b) in set.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeBase64(b, into: out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Plain JSON, as boto3's TypeDeserializer would give it: numbers as JSON numbers
    /// (exact text), BOOL/NULL as literals. Lossy where JSON has no type: B becomes a
    /// base64 string, and sets become arrays.
    public static func writePlain(_ map: AttributeMap, into out: ByteBuffer) {
        writeMap(map, into: out) { writePlainValue($0, into: out) }
    }

    public static func writePlainValue(_ value: AttributeValue, into out: ByteBuffer) {
        switch value {
        case let .s(s): JSONWriter.writeString(s, into: out)
        case let .n(n): n.write(into: out)
        case let .b(b): writeBase64(b, into: out)
        case let .bool(flag): out.append(flag ? "true" : "false")
        case .null: out.append("null")
        case let .m(map): writePlain(map, into: out)
        case let .l(list): writePlainArray(list, into: out) { writePlainValue($0, into: out) }
        case let .ss(set): writePlainArray(set, into: out) { JSONWriter.writeString($0, into: out) }
        case let .ns(set): writePlainArray(set, into: out) { $0.write(into: out) }
        case let .bs(set): writePlainArray(set, into: out) { writeBase64($0, into: out) }
        }
    }

    static func writePlainArray<T>(_ elements: [T], into out: ByteBuffer, _ each: (T) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            each(element)
        }
        out.append(UInt8(ascii: "]"))
    }

    static func writeBase64(_ bytes: [UInt8], into out: ByteBuffer) {
        var text: [UInt8] = [UInt8(ascii: "\"")]
        Base64.encode(bytes, into: &text)
        text.append(UInt8(ascii: "\""))
        out.append(text)
    }
}
