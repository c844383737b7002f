//! Where time comes from, so tests can set it.

use std::sync::Mutex;
use std::time::SystemTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until told otherwise.
pub struct FixedClock(Mutex<SystemTime>);

impl FixedClock {
    pub fn new(at: SystemTime) -> Self {
        FixedClock(Mutex::new(at))
    }

    pub fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
