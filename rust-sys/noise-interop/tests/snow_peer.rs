//! Interop proof: `snow`, a Noise implementation we did not write, talks to
//! a ddata node over loopback TCP with ddata's framing (docs/transport.md):
//! the initiator's preamble "DDN" 2, then Noise messages behind a 16-bit
//! big-endian length, Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b with the
//! preamble as prologue and the cluster secret as the PSK, AUTH in message
//! 3 (initiator) or transport message 0 (responder), then DATA chunks.
use ddata::{Replica, ReplicaOptions, System, SystemOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const PATTERN: &str = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b";
const PREAMBLE: [u8; 4] = *b"DDN\x02";
const SECRET: [u8; 32] = [7u8; 32];

fn node(id: &str, peer_keys: Vec<([u8; 32], Option<String>)>) -> (System, Replica) {
    let mut o = SystemOptions::new(id);
    o.tcp_listen = Some("127.0.0.1:0".into());
    o.secret = Some(SECRET);
    o.peer_keys = peer_keys;
    let s = System::open(&o).unwrap();
    let r = Replica::open(&s, &ReplicaOptions::default()).unwrap();
    (s, r)
}

fn keypair() -> snow::Keypair {
    snow::Builder::new(PATTERN.parse().unwrap())
        .generate_keypair()
        .unwrap()
}

fn builder<'a>(key: &'a snow::Keypair, psk: &'a [u8; 32]) -> snow::Builder<'a> {
    snow::Builder::new(PATTERN.parse().unwrap())
        .local_private_key(&key.private)
        .psk(3, psk)
        .prologue(&PREAMBLE)
}

fn send(s: &mut TcpStream, msg: &[u8]) {
    assert!(msg.len() <= 65535);
    s.write_all(&(msg.len() as u16).to_be_bytes()).unwrap();
    s.write_all(msg).unwrap();
}

/// The next Noise message, or None when the node closed the connection.
fn recv(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut msg).ok()?;
    Some(msg)
}

fn auth(id: &str) -> Vec<u8> {
    let addr = b"127.0.0.1:1";
    let mut a = vec![0x02];
    a.extend_from_slice(&42u64.to_le_bytes());
    a.push(id.len() as u8);
    a.extend_from_slice(id.as_bytes());
    a.push(addr.len() as u8);
    a.extend_from_slice(addr);
    a
}

fn auth_id(plain: &[u8]) -> String {
    assert_eq!(plain[0], 0x02, "not an AUTH message");
    let idlen = plain[9] as usize;
    String::from_utf8(plain[10..10 + idlen].to_vec()).unwrap()
}

/// One whole frame (one DATA chunk: the node's frames here are small).
fn data(msg_class: u8, payload: &[u8]) -> Vec<u8> {
    data_head(msg_class, payload.len(), payload)
}

/// A frame as the framing rule cuts it: DATA(first 65513 bytes), MORE(65518)...
fn chunks(frame: &[u8]) -> Vec<Vec<u8>> {
    let first = frame.len().min(65535 - 16 - 6);
    let mut out = vec![data_head(0, frame.len(), &frame[..first])];
    for more in frame[first..].chunks(65535 - 16 - 1) {
        let mut m = vec![0x03];
        m.extend_from_slice(more);
        out.push(m);
    }
    out
}

fn data_head(msg_class: u8, total: usize, first: &[u8]) -> Vec<u8> {
    let mut d = vec![0x01, msg_class];
    d.extend_from_slice(&(total as u32).to_le_bytes());
    d.extend_from_slice(first);
    d
}

fn transport(stats: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(stats).unwrap()["transport"].clone()
}

fn peer<'a>(stats: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    stats["peers"].as_array()?.iter().find(|p| p["node"] == id)
}

fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..300 {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn connect(sys: &System) -> TcpStream {
    let s = TcpStream::connect(sys.listen_address().unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// snow as initiator: returns the transport state and the stream, or None
/// when the node hung up instead of sending its AUTH.
fn snow_initiates(
    sys: &System,
    key: &snow::Keypair,
    psk: &[u8; 32],
    id: &str,
) -> Option<(snow::TransportState, TcpStream)> {
    snow_handshake(sys, "ddata-r", key, psk, id)
}

fn snow_initiates_as(
    sys: &System,
    node_id: &str,
    key: &snow::Keypair,
    id: &str,
) -> Option<(snow::TransportState, TcpStream)> {
    snow_handshake(sys, node_id, key, &SECRET, id)
}

fn snow_handshake(
    sys: &System,
    node_id: &str,
    key: &snow::Keypair,
    psk: &[u8; 32],
    id: &str,
) -> Option<(snow::TransportState, TcpStream)> {
    let mut s = connect(sys);
    let mut hs = builder(key, psk).build_initiator().unwrap();
    let mut buf = vec![0u8; 65535];
    let mut plain = vec![0u8; 65535];
    s.write_all(&PREAMBLE).unwrap();
    let n = hs.write_message(&[], &mut buf).unwrap();
    send(&mut s, &buf[..n]);
    let m2 = recv(&mut s).expect("message 2");
    hs.read_message(&m2, &mut plain).unwrap();
    assert_eq!(hs.get_remote_static().unwrap(), &sys.public_key().unwrap()[..]);
    let n = hs.write_message(&auth(id), &mut buf).unwrap();
    send(&mut s, &buf[..n]);
    let mut t = hs.into_transport_mode().unwrap();
    let m = recv(&mut s)?;
    let n = t.read_message(&m, &mut plain).unwrap();
    assert_eq!(auth_id(&plain[..n]), node_id);
    Some((t, s))
}

/// Has the node dial a listener of this test: the accepted stream (5 s
/// read timeout) and the preamble the node opened with.
fn accept_from(sys: &System) -> (TcpStream, [u8; 4]) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    sys.connect(&listener.local_addr().unwrap().to_string()).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut pre = [0u8; 4];
    s.read_exact(&mut pre).unwrap();
    (s, pre)
}

/// snow as responder with `psk`: reads message 1, answers with message 2;
/// the caller reads message 3 (the node's static key and AUTH).
fn snow_responds(s: &mut TcpStream, key: &snow::Keypair, psk: &[u8; 32]) -> snow::HandshakeState {
    let mut hs = builder(key, psk).build_responder().unwrap();
    let mut buf = vec![0u8; 65535];
    let mut plain = vec![0u8; 65535];
    hs.read_message(&recv(s).unwrap(), &mut plain).unwrap();
    let n = hs.write_message(&[], &mut buf).unwrap();
    send(s, &buf[..n]);
    hs
}

/// Reads until a DATA chunk arrives; returns its (class, payload).
fn next_data(t: &mut snow::TransportState, s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut plain = vec![0u8; 65535];
    let m = recv(s).expect("a transport message from the node");
    let n = t.read_message(&m, &mut plain).unwrap();
    assert_eq!(plain[0], 0x01, "a DATA chunk");
    let total = u32::from_le_bytes(plain[2..6].try_into().unwrap()) as usize;
    assert_eq!(total, n - 6, "small frames travel in one chunk");
    (plain[1], plain[6..n].to_vec())
}

#[test]
fn snow_initiator_completes_the_handshake_and_exchanges_messages_with_a_node() {
    let (sys, _r) = node("ddata-r", vec![]);
    let key = keypair();
    let (mut t, mut s) = snow_initiates(&sys, &key, &SECRET, "snow-i").expect("the node's AUTH");
    // The node speaks first on a new link (its address book, channel 1).
    let (_class, payload) = next_data(&mut t, &mut s);
    assert!(!payload.is_empty());
    // And hears us: an empty address book (channel 1, zero entries).
    let mut buf = vec![0u8; 65535];
    let n = t.write_message(&data(0, &[1, 0]), &mut buf).unwrap();
    send(&mut s, &buf[..n]);
    assert!(wait_until(|| {
        let st: serde_json::Value = serde_json::from_str(&sys.stats_json().unwrap()).unwrap();
        peer(&st, "snow-i").is_some_and(|p| p["frames_in"].as_u64() >= Some(1))
    }));
    // A frame longer than one Noise message, chunked by the framing rule
    // (DATA with the first 65513 bytes, then full MORE chunks, then the rest).
    let mut big = vec![9u8; 150_000]; // channel 9: no engine listens there
    big[1] = 1;
    for (i, chunk) in chunks(&big).iter().enumerate() {
        let n = t.write_message(chunk, &mut buf).unwrap();
        assert!(n <= 65535, "chunk {i} does not fit one Noise message");
        send(&mut s, &buf[..n]);
    }
    assert!(wait_until(|| {
        let st: serde_json::Value = serde_json::from_str(&sys.stats_json().unwrap()).unwrap();
        peer(&st, "snow-i").is_some_and(|p| p["frames_in"].as_u64() >= Some(2))
    }));
    let st: serde_json::Value = serde_json::from_str(&sys.stats_json().unwrap()).unwrap();
    assert_eq!(st["transport"]["malformed_frames"], 0);
    assert_eq!(peer(&st, "snow-i").unwrap()["connected"], true);
    assert_eq!(st["transport"]["book_errors"], 0);
    assert_eq!(st["transport"]["auth_failures"], 0);
    let hex: String = key.public.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(peer(&st, "snow-i").unwrap()["key"], hex.as_str());
}

#[test]
fn snow_responder_completes_the_handshake_and_exchanges_messages_with_a_node() {
    let (sys, _r) = node("ddata-i", vec![]);
    let key = keypair();
    let (mut s, pre) = accept_from(&sys);
    assert_eq!(pre, PREAMBLE);
    let mut hs = snow_responds(&mut s, &key, &SECRET);
    let mut buf = vec![0u8; 65535];
    let mut plain = vec![0u8; 65535];
    let n = hs.read_message(&recv(&mut s).unwrap(), &mut plain).unwrap();
    assert_eq!(auth_id(&plain[..n]), "ddata-i");
    assert_eq!(hs.get_remote_static().unwrap(), &sys.public_key().unwrap()[..]);
    let mut t = hs.into_transport_mode().unwrap();
    let n = t.write_message(&auth("snow-r"), &mut buf).unwrap();
    send(&mut s, &buf[..n]);
    let (_class, payload) = next_data(&mut t, &mut s);
    assert!(!payload.is_empty());
    let n = t.write_message(&data(0, &[1, 0]), &mut buf).unwrap();
    send(&mut s, &buf[..n]);
    assert!(wait_until(|| {
        let st: serde_json::Value = serde_json::from_str(&sys.stats_json().unwrap()).unwrap();
        peer(&st, "snow-r").is_some_and(|p| p["frames_in"].as_u64() >= Some(1))
    }));
}

#[test]
fn snow_with_a_wrong_psk_is_refused_by_the_node_and_refuses_the_node() {
    let (sys, _r) = node("ddata-r", vec![]);
    let key = keypair();
    assert!(snow_initiates(&sys, &key, &[9u8; 32], "snow-bad").is_none());
    assert!(wait_until(|| transport(&sys.stats_json().unwrap())
        ["handshake_failures"]
        .as_u64()
        >= Some(1)));
    let st: serde_json::Value = serde_json::from_str(&sys.stats_json().unwrap()).unwrap();
    assert!(peer(&st, "snow-bad").is_none());

    // As responder, snow finds the node's message 3 does not decrypt.
    let (mut s, _) = accept_from(&sys);
    let mut hs = snow_responds(&mut s, &key, &[9u8; 32]);
    let mut plain = vec![0u8; 65535];
    assert!(hs.read_message(&recv(&mut s).unwrap(), &mut plain).is_err());
}

#[test]
fn snow_with_an_unlisted_key_is_refused_and_a_listed_one_admitted() {
    let listed = keypair();
    let stranger = keypair();
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&listed.public);
    let (sys, _r) = node("ddata-r", vec![(pk, Some("snow-ok".into()))]);
    assert!(snow_initiates(&sys, &stranger, &SECRET, "snow-ok").is_none());
    assert!(wait_until(|| transport(&sys.stats_json().unwrap())
        ["refused_peers"]
        .as_u64()
        >= Some(1)));
    // The listed key under another id is refused too; under its id it gets in.
    assert!(snow_initiates(&sys, &listed, &SECRET, "snow-other").is_none());
    assert!(snow_initiates(&sys, &listed, &SECRET, "snow-ok").is_some());
    // Removing the key closes the link.
    let (mut t, mut s) = snow_initiates(&sys, &listed, &SECRET, "snow-ok").unwrap();
    let _ = next_data(&mut t, &mut s);
    sys.set_peer_keys(&[]).unwrap(); // no list: still admitted
    let mut other = [0u8; 32];
    other.copy_from_slice(&stranger.public);
    sys.set_peer_keys(&[(other, None)]).unwrap();
    let mut closed = false;
    for _ in 0..50 {
        match recv(&mut s) {
            None => {
                closed = true;
                break;
            }
            Some(_) => continue,
        }
    }
    assert!(closed, "the node kept the link of a removed key");
}

#[test]
fn a_generated_key_file_is_the_static_key_snow_sees() {
    let dir = std::env::temp_dir().join(format!("ddata-snow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("node.key");
    let _ = std::fs::remove_file(&path);
    let public = ddata::generate_node_key(path.to_str().unwrap()).unwrap();
    assert!(
        ddata::generate_node_key(path.to_str().unwrap()).is_err(),
        "a key file was overwritten"
    );
    let mut o = SystemOptions::new("ddata-keyed");
    o.tcp_listen = Some("127.0.0.1:0".into());
    o.secret = Some(SECRET);
    o.node_key_file = Some(path.to_str().unwrap().into());
    let sys = System::open(&o).unwrap();
    let _r = Replica::open(&sys, &ReplicaOptions::default()).unwrap();
    assert_eq!(sys.public_key().unwrap(), public);
    // snow_initiates checks the key in message 2 against the node's public key.
    assert!(snow_initiates_as(&sys, "ddata-keyed", &keypair(), "snow-k").is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}
