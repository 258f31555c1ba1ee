use ddata::{Error, Status};

#[test]
fn version_number_matches_version_string() {
    let parts: Vec<i32> = ddata::version().split('.').map(|p| p.parse().unwrap()).collect();
    assert_eq!(
        ddata::version_number(),
        parts[0] * 1_000_000 + parts[1] * 1000 + parts[2]
    );
    assert!(ddata::abi_version() >= 1);
}

#[test]
fn init_is_idempotent() {
    ddata::init().unwrap();
    ddata::init().unwrap();
}

#[test]
fn status_round_trips_through_its_code() {
    for code in -16..=-1 {
        let s = Status::from_code(code);
        assert!(!matches!(s, Status::Other(_)), "code {code} unnamed");
        assert_eq!(s.code(), code);
        assert!(s.name().starts_with("DD_E"));
    }
    assert_eq!(Status::from_code(-99), Status::Other(-99));
    assert_eq!(Status::Conflict.name(), "DD_ECONFLICT");
    assert_eq!(Status::from_code(-16), Status::Callback);
    assert_eq!(Status::Callback.name(), "DD_ECALLBACK");
}

#[test]
fn error_displays_name_and_message() {
    let e = Error::new(Status::NotFound, "journal 'x': no such persistence id");
    assert_eq!(e.code(), -4);
    assert_eq!(e.to_string(), "DD_ENOTFOUND: journal 'x': no such persistence id");
}
