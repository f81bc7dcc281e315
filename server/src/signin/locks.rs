//! One sign-in at a time per name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-name locks; entries disappear when nobody holds or waits for them.
#[derive(Clone, Default)]
pub struct SignInLocks {
    map: Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>,
}

/// Held while one attempt for a name runs.
pub struct Turn {
    _guard: OwnedMutexGuard<()>,
    key: String,
    locks: SignInLocks,
}

impl SignInLocks {
    /// Waits until no other attempt for `key` runs.
    pub async fn lock(&self, key: &str) -> Turn {
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.to_owned()).or_default().clone()
        };
        Turn {
            _guard: mutex.lock_owned().await,
            key: key.to_owned(),
            locks: self.clone(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        // The map and this turn hold one reference each; more means someone is waiting.
        if map
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) <= 2)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn attempts_for_one_name_wait_and_the_map_empties_afterwards() {
        let locks = SignInLocks::default();
        let first = locks.lock("alice").await;
        let waiting = tokio::spawn({
            let locks = locks.clone();
            async move { locks.lock("alice").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "second attempt must wait for the first"
        );
        let _other = locks.lock("bob").await;

        drop(first);
        let second = waiting.await.expect("second attempt runs");
        drop(second);
        drop(_other);
        assert_eq!(locks.len(), 0);
    }
}
